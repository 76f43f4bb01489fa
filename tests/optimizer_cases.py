"""Shared scenario for the table-driven optimizer tests: the same parameters,
two param groups, and a seeded gradient stream in which one parameter has no
gradient on some steps."""

import copy
import itertools

import pytest
import torch

from descentlab import optimizers

STEPS = 30

# fused=True compiles kernels: the tests that do so share one xdist worker,
# which starts the compiler once (seconds with an empty cache) and builds each
# kernel once.
compiles_fused = pytest.mark.xdist_group("fused kernels")


def make_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (5,), (2, 3)]
    return [torch.randn(s, generator=g, dtype=torch.float64).requires_grad_() for s in shapes]


def param_groups(params, hp):
    """Group 0: params 0 and 1 with ``hp``; group 1: param 2 with half the lr."""
    second = {"params": [params[2]]}
    if "lr" in hp:
        second["lr"] = hp["lr"] * 0.5
    return [{"params": params[:2]}, second]


def gradient_stream(params, steps=STEPS, seed=1, with_none=True):
    """Per step, one gradient per parameter; parameter 1 has None every 4th
    step (unless ``with_none`` is False)."""
    g = torch.Generator().manual_seed(seed)
    for t in range(1, steps + 1):
        yield [None if (with_none and i == 1 and t % 4 == 2) else torch.randn(p.shape, generator=g, dtype=p.dtype)
               for i, p in enumerate(params)]


def set_grads(params, grads):
    for p, grad in zip(params, grads):
        p.grad = None if grad is None else grad.clone()


def hand_over_from_torch(ours, ours_params, theirs, torch_params, steps, seed):
    """Step torch's optimizer ``steps`` times, then give ours its parameters and
    state_dict. torch's own load casts state to the parameter dtype (NAdam's
    float32 mu_product becomes float64), so torch's optimizer goes through the
    same load, and the two can be compared like with like from here on."""
    for grads in gradient_stream(torch_params, steps, seed):
        set_grads(torch_params, grads)
        theirs.step()
    with torch.no_grad():
        for p, q in zip(ours_params, torch_params):
            p.copy_(q)
    ours.load_state_dict(copy.deepcopy(theirs.state_dict()))
    theirs.load_state_dict(copy.deepcopy(theirs.state_dict()))


def flag_combinations(name):
    """Every combination of the entry's variants, weight decay and maximize."""
    info = optimizers.info(name)
    accepted = optimizers.defaults(name)
    axes = dict(info.variants)
    if "weight_decay" in accepted:
        axes["weight_decay"] = (0, 0.05)
    if "maximize" in accepted:
        axes["maximize"] = (False, True)
    keys = sorted(axes)
    for values in itertools.product(*(axes[k] for k in keys)):
        yield dict(zip(keys, values))


def twin_of(name, hp):
    """(torch class, kwargs) of the torch.optim twin for these overrides, or None."""
    return optimizers.info(name).counterpart({**optimizers.defaults(name), **hp})


def lr_for(name):
    # Rprop and line searches start from their own step sizes; the others get a
    # lr big enough that 30 steps move the parameters visibly.
    return {"adadelta": 1.0, "sgd": 0.05}.get(name, 0.01)


def constructs(name, hp):
    """False when the combination is invalid (e.g. nesterov without momentum)."""
    try:
        optimizers.create(name, make_params(), **hp)
    except ValueError:
        return False
    return True


def all_cases(with_counterpart):
    for name in optimizers.available():
        info = optimizers.info(name)
        for flags in flag_combinations(name):
            hp = {**flags}
            if "lr" in optimizers.defaults(name):
                hp["lr"] = lr_for(name)
            if not constructs(name, hp):
                continue
            has_twin = info.counterpart is not None and twin_of(name, hp) is not None
            if has_twin == with_counterpart:
                yield name, hp


def case_id(case):
    name, hp = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in sorted(hp.items()) if k != "lr")


def numpy_reference_run(name, hp, update, stream=gradient_stream, steps=STEPS):
    """Run a NumPy reference ``update(p, g, state, hp) -> p`` over the same scenario
    as our optimizer: the same groups (group 1 at half the lr), gradients,
    weight decay and maximize. Returns (parameters after each step, final states)."""
    full = {**optimizers.defaults(name), **hp}
    params = [p.detach().numpy().copy() for p in make_params()]
    lrs = [full["lr"], full["lr"], full["lr"] * 0.5]
    states = [{} for _ in params]
    history = []
    for grads in stream(make_params(), steps):
        for i, grad in enumerate(grads):
            if grad is None:
                continue
            g = grad.numpy() * (-1 if full["maximize"] else 1)
            wd = full["weight_decay"]
            if wd and full.get("decoupled_weight_decay"):
                params[i] = params[i] * (1 - lrs[i] * wd)
            elif wd:
                g = g + wd * params[i]
            params[i] = update(params[i], g, states[i], {**full, "lr": lrs[i]})
        history.append([p.copy() for p in params])
    return history, states


def minimise(name, f, grad, start, hp, steps):
    """Run optimizer ``name`` on ``f`` from ``start`` (float64) for ``steps`` closure steps,
    with ``grad(x)`` the hand-written gradient of ``f`` (autograd's backward was a third of
    each step's time; test_optimizer_convergence checks every ``grad`` against autograd);
    returns the final point."""
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = optimizers.create(name, [x], **hp)

    @torch.no_grad()
    def closure():
        x.grad = grad(x)
        return f(x)

    for _ in range(steps):
        opt.step(closure)
    return x.detach()


def beale(x):
    return ((1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2
            + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2)


def beale_grad(x):
    terms = [(c - x[0] + x[0] * x[1] ** k, k) for c, k in ((1.5, 1), (2.25, 2), (2.625, 3))]
    return torch.stack([sum(2 * r * (x[1] ** k - 1) for r, k in terms),
                        sum(2 * r * k * x[0] * x[1] ** (k - 1) for r, k in terms)])
