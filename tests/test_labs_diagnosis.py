"""Every failed check says where the numbers first part and, when one fits, the pattern.

Each student class below is the shipped stub filled with the lecture solution
and one edit (``lab_solutions.with_mistake``), graded in this process
(``grader.check_class``, as a notebook does). The expected numbers are
computed here from the formulas, not read from the grader.
"""

import json
import math
import re

import numpy as np
import pytest

from descentlab.labs import checks, feedback, gradescope, grader, handout, runs
from lab_solutions import SOLUTIONS, student, with_mistake

STUBS = handout.stub_files()
SYMBOLS = {name: exercise.symbol for name, exercise in checks.EXERCISES.items()}


def graded(tmp_path, exercise, right=None, wrong=None, method=None, bodies=None):
    if bodies is None:
        bodies = with_mistake(exercise, method or list(SOLUTIONS[exercise])[-1], right, wrong)
    impl = student(tmp_path, exercise, bodies, STUBS[f"{exercise}.py"], SYMBOLS[exercise])
    return grader.check_class(exercise, impl, show=False)


def numbers(where):
    """(expected, got) of a diagnosis' first line."""
    found = re.search(r"expected (?:w - w0 = |lr = )?(\S+), got (\S+)$", where)
    return float(found[1]), float(found[2])


def lines_under(report, check):
    """The lines the terminal prints under ``check``'s FAIL line."""
    text = report.text.splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith(f"  FAIL  {check.name}"))
    following = []
    for line in text[at + 1:]:
        if not line.startswith("        "):
            break
        following.append(line.strip())
    return following


def test_raw_m_in_the_numerator_with_only_v_corrected_is_a_factor_that_changes_with_the_step(tmp_path):
    report = graded(tmp_path, "adam", 'm_hat = state["m"] / (1 - beta1 ** t)', 'm_hat = state["m"]')
    one, seeded, _, tiny = report.checks
    # one step from w0 = [1, -2, 0.5] with g = [0.1, -0.3, 2] at the stub's defaults (lr 1e-3, eps 1e-8):
    # ours -lr * g / (|g| + eps); theirs lacks the 1 / (1 - beta1) = 10
    ours = -1e-3 * 0.1 / (0.1 + 1e-8)
    assert one.diagnosis.where.startswith("first differs at step 1, parameter 0 (a vector of 3), element [0]: ")
    expected, got = numbers(one.diagnosis.where)
    assert expected == pytest.approx(ours, rel=1e-5) and got == pytest.approx(ours * (1 - 0.9), rel=1e-5)
    assert one.diagnosis.pattern.startswith("every step is 0.1 x ours")
    factors = ", ".join(f"{1 - 0.9 ** t:.4g}" for t in range(1, 6))
    for check in (seeded, tiny):
        assert check.diagnosis.pattern == (f"each step is ours times a factor that changes with the step: "
                                           f"{factors} (steps 1-5)")
    assert lines_under(report, seeded) == seeded.diagnosis.lines()


def test_v_without_its_one_minus_beta2_is_a_constant_factor(tmp_path):
    report = graded(tmp_path, "adam", "(1 - beta2) * grad ** 2", "grad ** 2")
    one = report.checks[0]
    # v is 1 / (1 - beta2) too large, so sqrt(v) is 1 / sqrt(1 - beta2) too large (eps aside)
    assert one.diagnosis.pattern == f"every step is {math.sqrt(1 - 0.999):.4g} x ours: off by a constant factor"
    expected, got = numbers(one.diagnosis.where)
    assert got / expected == pytest.approx(math.sqrt(1 - 0.999), rel=1e-4)


def test_param_plus_equals_is_the_opposite_sign_at_every_check(tmp_path):
    report = graded(tmp_path, "adam", "param -= group", "param += group")
    assert not any(c.passed for c in report.checks)
    for check in report.checks:
        assert check.diagnosis.pattern == "every step is -1 x ours: the opposite sign"
        expected, got = numbers(check.diagnosis.where)
        assert got == pytest.approx(-expected)
        assert "step 1, parameter 0" in check.diagnosis.where


def test_abs_g_without_a_root_is_right_at_step_1_and_wrong_from_step_2(tmp_path):
    report = graded(tmp_path, "adagrad", bodies={
        "init_state": SOLUTIONS["adagrad"]["init_state"],
        "update": '''
            state["G"] = state["G"] + grad.abs()
            param -= group["lr"] * grad / (state["G"] + group["eps"])
        '''})
    one, seeded = report.checks[:2]
    assert one.passed   # |g| / |g| = g^2 / sqrt(g^2): the one-step check cannot tell
    # Where it first differs, from the formulas: our G sums g^2 and divides by its root, theirs sums |g|
    w0, steps = runs.optimizer_inputs(checks.exercise("adagrad").checks[1])
    lr, eps = 1e-2, 1e-10
    ours, theirs = [w.numpy().copy() for w in w0], [w.numpy().copy() for w in w0]
    squares, absolutes = [np.zeros_like(w) for w in ours], [np.zeros_like(w) for w in ours]
    first = None
    for t, grads in enumerate(steps, 1):
        for p, g in enumerate(grads):
            g, start = g.numpy(), w0[p].numpy()
            squares[p] += g ** 2
            absolutes[p] += np.abs(g)
            ours[p] -= lr * g / (np.sqrt(squares[p]) + eps)
            theirs[p] -= lr * g / (absolutes[p] + eps)
            wrong = np.argwhere(np.abs(ours[p] - theirs[p]) > 1e-12)
            if first is None and len(wrong):
                at = tuple(int(i) for i in wrong[0])
                first = (t, p, at, ours[p][at] - start[at], theirs[p][at] - start[at])
    t, p, element, expected, got = first
    assert t == 2
    assert seeded.diagnosis.where.startswith(
        f"first differs at step 2, parameter {p} (a vector of 3), element [{', '.join(map(str, element))}]: ")
    assert numbers(seeded.diagnosis.where) == pytest.approx((expected, got), rel=1e-5)
    assert seeded.diagnosis.pattern.startswith("right at step 1, wrong from step 2 on")
    assert seeded.diagnosis.first == {"step": 2, "part": p, "element": list(element),
                                      "expected": pytest.approx(expected), "got": pytest.approx(got)}


PATTERNS = [
    # (id, exercise, bodies or (method, right, wrong), check index, the pattern's start)
    ("state-never-updated", "adam", ("update", 'beta1, beta2 = group["betas"]',
                                     'state = dict(state)\nbeta1, beta2 = group["betas"]'), 1,
     "every step is what a new optimizer would do with that gradient: the state is never updated"),
    ("never-moves", "rmsprop", ("update", "param -= group", "param = param - group"), 1,
     "the parameters never move: every step is 0"),
    ("one-step-late", "momentum", ("update", 'state["update"] = group["momentum"] * state["update"] + '
                                   'group["lr"] * grad\nparam -= state["update"]',
                                   'param -= state["update"]\nstate["update"] = group["momentum"] * '
                                   'state["update"] + group["lr"] * grad'), 1,
     "your step t is our step t - 1: one step late"),
    ("inf-at-step-2", "momentum", ("update", 'param -= state["update"]',
                                   'state["t"] = state.get("t", 0) + 1\n'
                                   'param -= state["update"] * (torch.tensor(1.0) / (2 - state["t"]))'), 1,
     "inf first appears at step 2"),
    ("nan-at-step-1", "adam", ("update", 'state["t"] += 1\nt = state["t"]', 't = state["t"]\nstate["t"] += 1'), 1,
     "NaN first appears at step 1"),
    ("one-epoch-early", "step_decay", ("factor", "(epoch // self.step_size)", "((epoch + 1) // self.step_size)"),
     0, "your learning rate at epoch t is ours at epoch t + 1: one epoch early"),
    ("gradients-unchanged", "clip_grad_norm", ("clip_grad_norm", "g *= scale", "g = g * scale"), 0,
     "the norm is right, but the gradients were not changed"),
    ("norm-squared", "clip_grad_norm", ("clip_grad_norm", "return norm", "return norm ** 2"), 0,
     "the clipped gradients are right; the norm you return is not"),
]


@pytest.mark.parametrize("exercise, edit, index, pattern", [p[1:] for p in PATTERNS], ids=[p[0] for p in PATTERNS])
def test_each_pattern_is_named_under_its_check(tmp_path, exercise, edit, index, pattern):
    method, right, wrong = edit
    report = graded(tmp_path, exercise, right, wrong, method)
    check = report.checks[index]
    assert not check.passed and check.diagnosis.pattern.startswith(pattern), report.text
    assert lines_under(report, check) == check.diagnosis.lines()


def test_the_places_name_the_epoch_and_the_norm(tmp_path):
    report = graded(tmp_path, "step_decay", "(epoch // self.step_size)", "((epoch + 1) // self.step_size)", "factor")
    # K = 5, gamma = 0.5 from lr 0.1: the early schedule halves at epoch 4, ours at epoch 5
    assert report.checks[0].diagnosis.where == "first differs at epoch 4, param group 0: expected lr = 0.1, got 0.05"
    report = graded(tmp_path, "clip_grad_norm", "return norm", "return norm ** 2", "clip_grad_norm")
    # g = (3, 4) and (0, 12): norm 13
    assert report.checks[0].diagnosis.where == "first differs at the norm you return: expected 13, got 169"


def test_a_known_mistake_keeps_its_hint_and_the_diagnosis_comes_under_it_in_the_json(tmp_path):
    report = graded(tmp_path, "adam", '(v_hat.sqrt() + group["eps"])', '(v_hat + group["eps"]).sqrt()')
    results = gradescope.results([report])
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert len(failed) == 4
    for test, check in zip(failed, report.checks):
        lines = test["output"].splitlines()
        assert "eps is inside the square root" in lines[0] and "(see lecture" in lines[0]
        assert lines[1:] == check.diagnosis.lines() and lines[1].startswith("first differs at step 1")
        assert test["extra_data"]["mistake"] == "eps_inside_sqrt"
        assert test["extra_data"]["first_difference"] == json.loads(json.dumps(check.diagnosis.first))


def test_an_unknown_mistake_gets_the_same_text_in_the_json_output_as_in_the_terminal(tmp_path):
    report = graded(tmp_path, "adam", "param -= group", "param += group")
    results = gradescope.results([report])
    for test, check in zip(results["tests"], report.checks):
        assert test["output"] == "\n".join(lines_under(report, check)) == "\n".join(feedback.check_lines(report, check))
        assert test["output"].startswith("first differs at step 1") and "mistake" not in test["extra_data"]
        assert test["extra_data"]["pattern"] == "every step is -1 x ours: the opposite sign"
