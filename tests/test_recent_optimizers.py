"""The optimizers after Adam without a torch.optim twin (AdaBelief, diffGrad,
AngularGrad, AdaInject) against the NumPy references of ``reference_recent.py``
(float64, 40 steps, two groups, None gradients, every flag), parameters and
state to 1e-10; ablations showing those comparisons notice a missing friction
term, missing bias corrections, a misplaced eps or a missing injection;
hand-computed first steps; LineSearch against lecture 002's code; Beale."""

import math

import numpy as np
import pytest
import torch

from descentlab import optimizers
import reference_recent as ref
from optimizer_cases import (all_cases, beale, beale_grad, case_id, gradient_stream, make_params, minimise,
                             numpy_reference_run, param_groups, set_grads)

STEPS = 40
TOL = dict(rtol=0, atol=1e-10)
CASES = [c for c in all_cases(with_counterpart=False) if c[0] in ref.REFERENCES]


def sticky_stream(params, steps=STEPS, seed=5):
    """Gradients whose elements mostly repeat (or mostly change) from one step to
    the next, in alternating runs of three steps, so that AngularGrad's
    majority vote goes both ways; parameter 1 has None every 4th step."""
    g = torch.Generator().manual_seed(seed)
    previous = [torch.zeros(p.shape, dtype=p.dtype) for p in params]
    for t in range(1, steps + 1):
        keep = 0.85 if (t // 3) % 2 else 0.15
        grads = []
        for i, p in enumerate(params):
            fresh = torch.randn(p.shape, generator=g, dtype=p.dtype)
            kept = torch.rand(p.shape, generator=g, dtype=p.dtype) < keep
            previous[i] = torch.where(kept, previous[i], fresh)
            grads.append(None if (i == 1 and t % 4 == 2) else previous[i].clone())
        yield grads


STREAMS = {"random": gradient_stream, "sticky": sticky_stream}


def reference_run(name, hp, stream, update=None):
    return numpy_reference_run(name, hp, update or ref.REFERENCES[name], stream, STEPS)


def our_run(name, hp, stream):
    params = make_params()
    opt = optimizers.create(name, param_groups(params, hp), **hp)
    history = []
    for grads in stream(params, STEPS):
        set_grads(params, grads)
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, [opt.state[p] for p in params]


@pytest.mark.parametrize("stream", sorted(STREAMS))
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_reference(case, stream):
    name, hp = case
    expected, expected_states = reference_run(name, hp, STREAMS[stream])
    got, states = our_run(name, hp, STREAMS[stream])
    for t, (want, have) in enumerate(zip(expected, got), 1):
        for i, (a, b) in enumerate(zip(want, have)):
            np.testing.assert_allclose(b, a, **TOL, err_msg=f"{name} {hp} step {t} param {i}")
    for i, (want, have) in enumerate(zip(expected_states, states)):
        keys = set(want) - {"votes"}
        assert set(have) == keys, f"param {i}: state keys {sorted(have)} != {sorted(keys)}"
        for key in keys:
            np.testing.assert_allclose(np.asarray(have[key].numpy(), dtype=float), want[key], **TOL,
                                       err_msg=f"{name} {hp} param {i} state[{key!r}]")


def test_every_entry_without_a_twin_has_a_reference():
    lonely = {n for n in optimizers.available() if optimizers.info(n).counterpart is None}
    assert lonely - {"linesearch"} == set(ref.REFERENCES)
    assert {name for name, _ in CASES} == set(ref.REFERENCES)


def test_angulargrad_vote_goes_both_ways_in_the_sticky_stream():
    """Otherwise the comparison above would not exercise the minimum-angle update."""
    for method in ("cos", "tan"):
        _, states = reference_run("angulargrad", {"lr": 0.01, "method": method}, sticky_stream)
        votes = [s["votes"] for s in states]
        assert any(v[True] > 0 for v in votes) and any(v[False] > 0 for v in votes), votes


def largest_gap(name, hp, ablated, stream=gradient_stream):
    """Max |full reference - ablated reference| over the run (ours equals the full one)."""
    full, _ = reference_run(name, hp, stream)
    other, _ = reference_run(name, hp, stream, update=ablated)
    return max(np.abs(a - b).max() for f, o in zip(full, other) for a, b in zip(f, o))


@pytest.mark.parametrize("what,ablated", [
    ("no friction (plain Adam step)", lambda p, g, s, hp: ref.diffgrad(p, g, s, hp, friction=False)),
    ("g_0 = g_1 instead of 0", lambda p, g, s, hp: ref.diffgrad(p, g, s, hp, first_previous="g1")),
])
def test_diffgrad_reference_tells_the_friction_apart(what, ablated):
    assert largest_gap("diffgrad", {"lr": 0.01}, ablated) > 1e-4, what


def test_adabelief_reference_tells_the_bias_corrections_apart():
    ablated = lambda p, g, s, hp: ref.adabelief(p, g, s, hp, bias_correction=False)  # noqa: E731
    assert largest_gap("adabelief", {"lr": 0.01}, ablated) > 1e-3


def test_adabelief_eps_inside_s_matters_and_is_ours():
    """With a large eps, adding it to s_t (the authors' code) or only outside differs."""
    hp = {"lr": 0.01, "eps": 1e-2}
    ablated = lambda p, g, s, hp: ref.adabelief(p, g, s, hp, eps_in_s=False)  # noqa: E731
    assert largest_gap("adabelief", hp, ablated) > 1e-4
    expected, _ = reference_run("adabelief", hp, gradient_stream)
    got, _ = our_run("adabelief", hp, gradient_stream)
    np.testing.assert_allclose(np.concatenate([a.ravel() for a in got[-1]]),
                               np.concatenate([a.ravel() for a in expected[-1]]), **TOL)


def test_adainject_reference_tells_the_injection_apart():
    ablated = lambda p, g, s, hp: ref.adainject(p, g, s, hp, inject=False)  # noqa: E731
    assert largest_gap("adainject", {"lr": 0.01}, ablated) > 1e-4


def first_step(name, g=2.0, lr=0.1, **hp):
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    opt = optimizers.create(name, [w], lr=lr, **hp)
    w.grad = torch.tensor([g], dtype=torch.float64)
    opt.step()
    return w.item()


def test_first_steps_by_hand():
    eps_hat = 1e-8 / math.sqrt(1 - 0.999)         # the authors' eps, seen through sqrt(v^)
    sigmoid2 = 1 / (1 + math.exp(-2.0))
    # diffGrad: m^ = g, sqrt(v^) = |g|, xi_1 = AbsSig(|0 - g|)
    assert first_step("diffgrad") == pytest.approx(1 - 0.1 * sigmoid2 * 2 / (2 + eps_hat), abs=1e-15)
    # AngularGrad: theta starts at 0, so phi_1 = tanh(0) / 2 + 1/2 for both methods
    for method in ("cos", "tan"):
        assert first_step("angulargrad", method=method) == pytest.approx(
            1 - 0.1 * 0.5 * 2 / (2 + eps_hat), abs=1e-15)
    # AdaInject: no injection on the first step, an Adam step with the authors' eps
    assert first_step("adainject") == pytest.approx(1 - 0.1 * 2 / (2 + eps_hat), abs=1e-15)
    # AdaBelief: m_1 = 0.1 g, s_1 = 0.001 (0.9 g)^2 + eps, so the step is lr * g / |0.9 g|
    assert first_step("adabelief") == pytest.approx(1 - 0.1 / 0.9, abs=1e-12)


def test_amsgrad_is_registered_as_adam_with_amsgrad():
    assert optimizers.info("amsgrad").cls is optimizers.Adam
    assert optimizers.defaults("amsgrad")["amsgrad"] is True
    opt = optimizers.create("amsgrad", [torch.zeros(1, requires_grad=True)])
    assert opt.param_groups[0]["amsgrad"] is True
    torch_cls, kwargs = optimizers.info("amsgrad").counterpart(optimizers.defaults("amsgrad"))
    assert torch_cls is torch.optim.Adam and kwargs["amsgrad"] is True


# --- LineSearch ---------------------------------------------------------------------------

def neuron_run(epochs, forward_only=False, backwards=None, **hp):
    """Our LineSearch on lecture 002's sigmoid neuron, from w = b = -2. ``forward_only``
    gives the closure a ``loss`` function; ``backwards`` (a list) counts backward passes."""
    w = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    x, y = torch.tensor(ref.X), torch.tensor(ref.Y)
    opt = optimizers.create("linesearch", [w, b], **hp)

    def loss():
        return (0.5 * (torch.sigmoid(w * x + b) - y) ** 2).sum()

    def closure():
        opt.zero_grad()
        value = loss()
        value.backward()
        if backwards is not None:
            backwards.append(1)
        return value

    if forward_only:
        closure.loss = loss
    path = []
    for _ in range(epochs):
        opt.step(closure)
        path.append((w.item(), b.item()))
    return path


@pytest.mark.parametrize("forward_only", [False, True], ids=["closure", "closure.loss"])
def test_line_search_follows_the_lecture_code(forward_only):
    expected = ref.line_search_gradient_descent(-2.0, -2.0, (0.1, 0.5, 1.0, 10.0), STEPS)
    backwards = []
    got = neuron_run(STEPS, forward_only, backwards)
    np.testing.assert_allclose(got, expected, **TOL)
    assert ref.neuron_error(*got[-1]) < ref.neuron_error(-2.0, -2.0) / 10
    # scored with closure.loss, the 4 candidates cost no backward pass
    assert len(backwards) == STEPS * (1 if forward_only else 5)


@pytest.mark.parametrize("forward_only", [False, True], ids=["closure", "closure.loss"])
def test_armijo_follows_backtracking(forward_only):
    expected = ref.armijo_gradient_descent(-2.0, -2.0, 10.0, STEPS)
    got = neuron_run(STEPS, forward_only, method="armijo")
    np.testing.assert_allclose(got, expected, **TOL)
    errors = [ref.neuron_error(-2.0, -2.0)] + [ref.neuron_error(*wb) for wb in got]
    assert all(b <= a for a, b in zip(errors, errors[1:]))     # Armijo never goes uphill


def test_line_search_moves_to_the_best_candidate_even_uphill_and_skips_nan():
    """f(x) = x^2 from x = 1, g = 2: candidates 1 - 2 eta. eta = 1 lands on -1 (same
    loss, later: not taken), 0.9 on -0.8; a NaN loss is never taken."""
    x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    opt = optimizers.LineSearch([x], lrs=(1.5, 0.9, 1.0))

    def closure():
        opt.zero_grad()
        loss = (x ** 2).sum()
        loss.backward()
        return loss if x.item() > -1.5 else loss * math.nan

    assert opt.step(closure).item() == 1.0              # returns the loss before the step
    assert x.item() == pytest.approx(-0.8)
    opt = optimizers.LineSearch([x], lrs=(5.0, 2.0))      # candidates -8.8 (NaN) and 2.4 (uphill)
    opt.step(closure)
    assert x.item() == pytest.approx(-0.8 + 2 * 2 * 0.8)


def test_line_search_errors():
    x = torch.zeros(1, requires_grad=True)
    opt = optimizers.create("linesearch", [x])
    x.grad = torch.ones(1)
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    for bad in [(), (0.1, -1.0), (0.1, math.nan), "0.1", [True]]:
        with pytest.raises(ValueError, match="lrs"):
            optimizers.LineSearch([x], lrs=bad)
    with pytest.raises(ValueError, match="method"):
        optimizers.LineSearch([x], method="wolfe")
    uneven = optimizers.LineSearch([{"params": [x]}, {"params": [torch.zeros(1, requires_grad=True)],
                                                      "lrs": (0.1,)}])
    with pytest.raises(ValueError, match="lrs"):
        uneven.step(lambda: (x ** 2).sum())
    assert optimizers.info("linesearch").needs_closure


@pytest.mark.parametrize("bad", [dict(method="sin"), dict(betas=(0.9, 1.0)), dict(eps=-1.0), dict(lr=-1.0),
                                 dict(weight_decay=-1.0)])
def test_angulargrad_bad_arguments(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        optimizers.create("angulargrad", [torch.zeros(1, requires_grad=True)], **bad)


# --- Beale (Rosenbrock and the quadratic are in test_optimizer_convergence.py) ---------------

# name -> (hyperparameters, steps, f must end below); minimum f(3, 0.5) = 0, f(1, 1) = 14.2.
BEALE = {
    "nadam": ({"lr": 2e-2}, 2000, 1e-10),
    "radam": ({"lr": 5e-2}, 2000, 1e-10),
    "adabelief": ({"lr": 2e-2}, 1000, 1e-10),
    "diffgrad": ({"lr": 5e-2}, 1000, 1e-7),
    "angulargrad": ({"lr": 5e-2}, 1000, 1e-7),
    "adainject": ({"lr": 5e-2}, 1000, 1e-7),
    "amsgrad": ({"lr": 2e-2}, 2000, 1e-8),
    "linesearch": ({"lrs": (1e-3, 1e-2, 5e-2, 0.1)}, 1000, 1e-8),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BEALE))
def test_beale(name):
    hp, steps, tol = BEALE[name]
    x = minimise(name, beale, beale_grad, [1.0, 1.0], hp, steps)
    assert beale(x).item() < tol
    assert torch.allclose(x, torch.tensor([3.0, 0.5], dtype=torch.float64), atol=1e-2)
