"""Learning-rate schedules against their closed forms (two param groups, ours and
torch.optim's optimizers), the plateau rule of lecture 002, Sutskever's momentum
schedule against hand-computed values, state_dict resumption, the registry and
invalid arguments."""

import math

import pytest
import torch

from descentlab import optimizers
from descentlab.optimizers import schedules

EPOCHS = 30
LR0 = (0.1, 0.03)

# name -> (hyperparameters, closed form lr_t / lr_0), written from the lecture formulas
CLOSED_FORMS = {
    "constant": ({}, lambda t: 1.0),
    "step": ({"step_size": 4, "gamma": 0.3}, lambda t: 0.3 ** (t // 4)),
    "exponential": ({"gamma": 0.9}, lambda t: 0.9 ** t),
    "inverse_time": ({"decay": 0.5}, lambda t: 1 / (1 + 0.5 * t)),
    "inverse_sqrt": ({"decay": 2.0}, lambda t: 1 / math.sqrt(1 + 2.0 * t)),
}


def two_groups(build):
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    return build([{"params": [a], "lr": LR0[0]}, {"params": [b], "lr": LR0[1]}])


BUILDERS = {
    "torch-sgd": lambda groups: torch.optim.SGD(groups, lr=1.0, momentum=0.9),
    "our-adam": lambda groups: optimizers.Adam(groups),
}


def lrs(opt):
    return [group["lr"] for group in opt.param_groups]


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_closed_forms(name, builder):
    hp, form = CLOSED_FORMS[name]
    opt = two_groups(BUILDERS[builder])
    schedule = schedules.create(name, opt, **hp)
    assert isinstance(schedule, torch.optim.lr_scheduler.LRScheduler)
    assert lrs(opt) == pytest.approx(LR0, rel=1e-15)
    for t in range(1, EPOCHS + 1):
        opt.step()
        schedule.step()
        want = [lr0 * form(t) for lr0 in LR0]
        assert lrs(opt) == pytest.approx(want, rel=1e-12), f"epoch {t}"
        assert schedule.get_last_lr() == pytest.approx(want, rel=1e-12)


def test_the_defaults_are_the_lectures():
    assert schedules.defaults("step") == {"step_size": 5, "gamma": 0.5}      # halve every 5 epochs
    assert schedules.defaults("exponential") == {"gamma": 0.95}            # 0.95^epoch
    assert schedules.defaults("inverse_time") == {"decay": 1.0}
    assert schedules.defaults("plateau") == {"factor": 0.5, "patience": 0, "min_lr": 0.0}
    assert schedules.defaults("sutskever_momentum") == {"mu_max": 0.99, "period": 250}


def test_the_scheduled_lr_is_the_one_used():
    """SGD on f(x) = x (gradient 1): each step moves x by exactly lr_t = 1 / (1 + t)."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = optimizers.SGD([x], lr=1.0)
    schedule = schedules.create("inverse_time", opt)
    for t in range(10):
        before = x.item()
        x.grad = torch.ones_like(x)
        opt.step()
        schedule.step()
        assert before - x.item() == pytest.approx(1 / (1 + t), rel=1e-12)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_resume_from_state_dict(name):
    hp, form = CLOSED_FORMS[name]
    opt = two_groups(BUILDERS["torch-sgd"])
    schedule = schedules.create(name, opt, **hp)
    for _ in range(7):
        opt.step()
        schedule.step()
    saved_opt, saved = opt.state_dict(), schedule.state_dict()
    opt2 = two_groups(BUILDERS["torch-sgd"])
    schedule2 = schedules.create(name, opt2, **hp)
    opt2.load_state_dict(saved_opt)
    schedule2.load_state_dict(saved)
    for t in range(8, 12):
        opt2.step()
        schedule2.step()
        assert lrs(opt2) == pytest.approx([lr0 * form(t) for lr0 in LR0], rel=1e-12)


def run_plateau(losses, **hp):
    opt = two_groups(BUILDERS["our-adam"])
    schedule = schedules.create("plateau", opt, **hp)
    assert isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau)
    history = []
    for loss in losses:
        opt.step()
        schedule.step(loss)
        history.append(lrs(opt)[0])
    return history


def test_plateau_halves_when_the_loss_rises_since_the_previous_epoch():
    # torch's ReduceLROnPlateau compares with the best loss (0.5) and would halve at 0.7 too.
    assert run_plateau([1.0, 0.5, 0.8, 0.7, 0.7, 0.9]) == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_plateau_patience_floor_and_nan():
    assert run_plateau([1, 2, 3, 4, 5], patience=1) == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert run_plateau([1, 2, 3, 4], min_lr=0.03) == pytest.approx([0.1, 0.05, 0.03, 0.03])
    assert run_plateau([1.0, math.nan, 0.5]) == pytest.approx([0.1, 0.05, 0.025])


@pytest.mark.parametrize("t,mu", [(0, 1 / 2), (1, 1 / 2), (249, 1 / 2), (250, 3 / 4), (749, 5 / 6),
                                  (750, 7 / 8), (1749, 13 / 14), (1750, 15 / 16), (3750, 31 / 32),
                                  (100_000, 0.99)])
def test_sutskever_momentum_by_hand(t, mu):
    """With k = floor(t/250) + 1, 1 - 2^(-1 - log2 k) = 1 - 1/(2k); capped at mu_max = 0.99."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    schedule = schedules.create("sutskever_momentum", opt)
    assert schedule.momentum(t) == pytest.approx(mu, rel=1e-15)
    schedule.load_state_dict({**schedule.state_dict(), "last_step": t})
    assert opt.param_groups[0]["momentum"] == pytest.approx(mu, rel=1e-15)


def test_sutskever_momentum_sets_momentum_or_beta1_every_iteration():
    x = torch.zeros(2, requires_grad=True)
    sgd = optimizers.SGD([x], lr=0.1, momentum=0.9)
    adam = optimizers.NAdam([x])
    for opt in (sgd, adam):
        schedule = schedules.create("sutskever_momentum", opt, mu_max=0.8, period=2)
        seen = []
        for _ in range(8):
            x.grad = torch.ones_like(x)
            opt.step()
            schedule.step()
            seen.append(schedule.get_last_momentum()[0])
        assert seen == [0.5, 0.75, 0.75, 0.8, 0.8, 0.8, 0.8, 0.8]   # 5/6 capped at 0.8
    assert adam.param_groups[0]["betas"] == (0.8, 0.999)


def test_registry():
    assert {"constant", "step", "exponential", "inverse_time", "inverse_sqrt", "plateau",
            "sutskever_momentum"} == set(schedules.available())
    for name in schedules.available():
        entry = schedules.info(name)
        assert entry.formula and entry.reference and entry.every
    with pytest.raises(ValueError, match="did you mean 'exponential'"):
        schedules.create("exponental", two_groups(BUILDERS["torch-sgd"]))
    with pytest.raises(ValueError, match="'gama'.*accepted: step_size, gamma"):
        schedules.create("step", two_groups(BUILDERS["torch-sgd"]), gama=0.5)


@pytest.mark.parametrize("name,bad", [
    ("step", {"step_size": 0}), ("step", {"step_size": 2.5}), ("step", {"gamma": 0}),
    ("step", {"gamma": 1.5}), ("exponential", {"gamma": -0.1}), ("exponential", {"gamma": math.nan}),
    ("inverse_time", {"decay": -1}), ("inverse_sqrt", {"decay": "fast"}),
    ("plateau", {"factor": 1.0}), ("plateau", {"factor": 0}), ("plateau", {"patience": -1}),
    ("plateau", {"min_lr": -1e-3}), ("sutskever_momentum", {"mu_max": 1.0}),
    ("sutskever_momentum", {"period": 0}),
])
def test_bad_arguments(name, bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        schedules.create(name, two_groups(BUILDERS["torch-sgd"]), **bad)


def test_optimizers_without_an_lr_or_a_momentum():
    x = torch.zeros(1, requires_grad=True)
    for name in ("step", "plateau"):
        with pytest.raises(ValueError, match="no learning rate"):
            schedules.create(name, optimizers.LineSearch([x]))
    for opt in (torch.optim.SGD([x], lr=0.1), optimizers.RMSprop([x]), optimizers.Adagrad([x])):
        with pytest.raises(ValueError, match="no momentum"):
            schedules.create("sutskever_momentum", opt)
    with pytest.raises(ValueError, match="optimizer"):
        schedules.create("constant", [x])
