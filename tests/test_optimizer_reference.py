"""Lecture variants without a torch.optim twin (EMA momentum, Adam without bias
correction, eps inside the square root) against the NumPy references of
``reference_lecture.py``: float64, 30 steps, two groups, None gradients."""

import numpy as np
import pytest
import torch

from descentlab import optimizers
from optimizer_cases import (all_cases, case_id, gradient_stream, make_params, numpy_reference_run,
                             param_groups, set_grads)
import reference_recent
from reference_lecture import REFERENCES

CASES = [c for c in all_cases(with_counterpart=False) if c[0] in REFERENCES]


def reference_run(name, hp, steps=30):
    return numpy_reference_run(name, hp, REFERENCES[name], steps=steps)[0]


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_lecture_formula(case):
    name, hp = case
    expected = reference_run(name, hp)
    params = make_params()
    opt = optimizers.create(name, param_groups(params, hp), **hp)
    for t, grads in enumerate(gradient_stream(params, len(expected))):
        set_grads(params, grads)
        opt.step()
        for i, p in enumerate(params):
            np.testing.assert_allclose(p.detach().numpy(), expected[t][i], rtol=0, atol=1e-10,
                                       err_msg=f"{name} {hp} step {t + 1} param {i}")


def test_reference_harness_can_fail():
    """The references are not vacuous: dropping Adam's bias correction changes the numbers."""
    with_bc = reference_run("adam", {"lr": 0.01, "eps_in_sqrt": True})
    without = reference_run("adam", {"lr": 0.01, "eps_in_sqrt": True, "bias_correction": False})
    assert np.abs(with_bc[-1][0] - without[-1][0]).max() > 1e-3


def test_ema_momentum_starts_from_zero():
    """Lecture: v_0 = 0, so the first EMA step is lr * (1 - beta) * g."""
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = optimizers.create("momentum", [p], lr=1.0, momentum=0.9, ema=True)
    p.grad = torch.tensor([1.0, -2.0, 4.0], dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([-0.1, 0.2, -0.4], dtype=torch.float64))


def test_every_variant_without_a_twin_has_a_reference():
    """Lecture variants here, the papers' optimizers in test_recent_optimizers.py;
    LineSearch is checked against lecture 002's own code there."""
    missing = {name for name, _ in all_cases(with_counterpart=False)}
    missing -= set(REFERENCES) | set(reference_recent.REFERENCES) | {"linesearch"}
    assert not missing, f"no NumPy reference for {sorted(missing)}"
