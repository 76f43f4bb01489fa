"""No correct rearrangement of an update fails; every known mistake still does.

Each rearrangement below is algebraically the lecture's update written in
another order (another association, in-place ops, the state scaled by eta,
the bias corrections folded into the step size, ...): in float64 it rounds
differently from ours, by ~1e-16 |w| a step, which is above 1e-10 of a
displacement of ~1e-7 (tiny gradients). Each must pass the exercise's checks,
its hidden checks and a tinier check written here; and without the rounding
allowance of ``checks.tolerance`` some would fail.
"""

import pytest

from descentlab.labs import checks, grader, handout, runs
from lab_solutions import MISTAKES, SOLUTIONS, student, with_mistake

STUBS = handout.stub_files()

# Gradients of 1e-8 over 25 steps: the displacement is ~1e-8 of |w|.
TINIER = runs.Check("25 steps, gradients of 1e-8", steps=25, seed=21, scale=1e-8)

REARRANGED = {
    "momentum": {
        "the torch form, v without eta": {
            "init_state": 'return {"v": torch.zeros_like(param)}',
            "update": '''
                state["v"] = group["momentum"] * state["v"] + grad
                param -= group["lr"] * state["v"]
            '''},
        "in place": {
            "init_state": SOLUTIONS["momentum"]["init_state"],
            "update": '''
                state["update"].mul_(group["momentum"]).add_(grad, alpha=group["lr"])
                param.sub_(state["update"])
            '''},
    },
    "nesterov": {
        "the torch form": {
            "init_state": 'return {"v": torch.zeros_like(param)}',
            "update": '''
                state["v"] = group["momentum"] * state["v"] + grad
                param -= group["lr"] * (grad + group["momentum"] * state["v"])
            '''},
        "w~ += mu u_(t-1) - (1 + mu) u_t": {
            "init_state": SOLUTIONS["nesterov"]["init_state"],
            "update": '''
                mu, previous = group["momentum"], state["update"]
                state["update"] = mu * previous + group["lr"] * grad
                param += mu * previous - (1 + mu) * state["update"]
            '''},
        "the lecture's three lines, w kept apart": {
            "init_state": SOLUTIONS["nesterov"]["init_state"],
            "update": '''
                mu, previous = group["momentum"], state["update"]
                w = param + mu * previous
                state["update"] = mu * previous + group["lr"] * grad
                w = w - state["update"]
                param.copy_(w - mu * state["update"])
            '''},
    },
    "adagrad": {
        "addcmul and addcdiv": {
            "init_state": SOLUTIONS["adagrad"]["init_state"],
            "update": '''
                state["G"].addcmul_(grad, grad)
                param.addcdiv_(grad, state["G"].sqrt().add_(group["eps"]), value=-group["lr"])
            '''},
        "the gradient over its scale": {
            "init_state": SOLUTIONS["adagrad"]["init_state"],
            "update": '''
                state["G"] = state["G"] + grad * grad
                param -= group["lr"] * (grad / (torch.sqrt(state["G"]) + group["eps"]))
            '''},
    },
    "rmsprop": {
        "v moves toward g^2 (lerp)": {
            "init_state": SOLUTIONS["rmsprop"]["init_state"],
            "update": '''
                state["v"] += (1 - group["alpha"]) * (grad * grad - state["v"])
                param -= group["lr"] * grad / (state["v"].sqrt() + group["eps"])
            '''},
        "in place": {
            "init_state": SOLUTIONS["rmsprop"]["init_state"],
            "update": '''
                state["v"].mul_(group["alpha"]).addcmul_(grad, grad, value=1 - group["alpha"])
                param.addcdiv_(grad, state["v"].sqrt().add_(group["eps"]), value=-group["lr"])
            '''},
    },
    # these two keep most of the solution: one edit each (``with_mistake``'s replacement)
    "adam": {
        "the corrections folded into the step size (Kingma & Ba's last paragraph)": with_mistake(
            "adam", "update", """
                m_hat = state["m"] / (1 - beta1 ** t)
                v_hat = state["v"] / (1 - beta2 ** t)
                param -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])""", """
                c2 = (1 - beta2 ** t) ** 0.5
                step = group["lr"] * c2 / (1 - beta1 ** t)
                param -= step * state["m"] / (state["v"].sqrt() + group["eps"] * c2)"""),
        "lerp and addcdiv": with_mistake(
            "adam", "update", """
                state["m"] = beta1 * state["m"] + (1 - beta1) * grad
                state["v"] = beta2 * state["v"] + (1 - beta2) * grad ** 2
                m_hat = state["m"] / (1 - beta1 ** t)
                v_hat = state["v"] / (1 - beta2 ** t)
                param -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])""", """
                state["m"].lerp_(grad, 1 - beta1)
                state["v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denominator = (state["v"] / (1 - beta2 ** t)).sqrt().add_(group["eps"])
                param.addcdiv_(state["m"] / (1 - beta1 ** t), denominator, value=-group["lr"])"""),
    },
    "diffgrad": {
        "the sigmoid written out, another association": with_mistake(
            "diffgrad", "update", """
                xi = torch.sigmoid((state["previous"] - grad).abs())
                state["previous"] = grad.clone()
                step = group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)
                param -= step * xi * state["m"] / (state["v"].sqrt() + group["eps"])""", """
                xi = 1 / (1 + torch.exp(-(state["previous"] - grad).abs()))
                state["previous"] = grad.clone()
                step = group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)
                param -= (step * xi) * (state["m"] / (state["v"].sqrt() + group["eps"]))"""),
        "the corrected moments, eps scaled to match": with_mistake(
            "diffgrad", "update", """
                step = group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)
                param -= step * xi * state["m"] / (state["v"].sqrt() + group["eps"])""", """
                c2 = (1 - beta2 ** t) ** 0.5
                m_hat, v_hat = state["m"] / (1 - beta1 ** t), state["v"] / (1 - beta2 ** t)
                param -= group["lr"] * xi * m_hat / (v_hat.sqrt() + group["eps"] / c2)"""),
    },
    "step_decay": {
        "floor of the quotient": {"factor": "return self.gamma ** math.floor(epoch / self.step_size)"},
        "gamma multiplied in a loop": {"factor": '''
            factor = 1.0
            for _ in range(epoch // self.step_size):
                factor *= self.gamma
            return factor
        '''},
    },
    "clip_grad_norm": {
        "torch's norms, stacked": {"clip_grad_norm": '''
            grads = [p.grad for p in params if p.grad is not None]
            norm = float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
            for g in grads:
                g.mul_(min(1.0, max_norm / (norm + 1e-6)))
            return norm
        '''},
    },
}


def run_all(exercise, impl, visible=True):
    chosen = ((exercise.checks if visible else ()) + exercise.hidden
              + ((TINIER,) if exercise.kind == "optimizer" else ()))
    results = runs.run_checks(exercise.kind, impl, chosen, "student.py")
    return grader.report(exercise, None, chosen, {"checks": results}, label="student.py")


CASES = [(name, how) for name, ways in REARRANGED.items() for how in ways]


@pytest.fixture(scope="module")
def rearranged(tmp_path_factory):
    reports = {}
    for name, how in CASES:
        exercise = checks.exercise(name)
        impl = student(tmp_path_factory.mktemp(name), name, REARRANGED[name][how], STUBS[f"{name}.py"],
                       exercise.symbol)
        reports[name, how] = run_all(exercise, impl)
    return reports


@pytest.mark.parametrize("name, how", CASES, ids=[f"{n}: {h}" for n, h in CASES])
def test_an_algebraically_equivalent_update_passes_every_check(rearranged, name, how):
    report = rearranged[name, how]
    assert report.passed, report.text


def test_the_rounding_allowance_is_what_lets_some_of_them_pass(rearranged):
    """Above the exercises' own 1e-10 somewhere: without the allowance these would fail."""
    above = [(key, c.name, c.relative_error) for key, report in rearranged.items() for c in report.checks
             if c.relative_error > checks.exercise(key[0]).tolerance]
    assert above
    assert all(c.relative_error <= c.tolerance for report in rearranged.values() for c in report.checks)


@pytest.mark.parametrize("index", range(len(MISTAKES)), ids=[f"{m[0]}-{m[4]}-{i}" for i, m in enumerate(MISTAKES)])
def test_every_known_mistake_still_fails_the_hidden_and_tinier_checks(tmp_path, index):
    """(The visible checks: tests/test_labs_exercises.py, through the sandbox.)"""
    name, method, right, wrong, key = MISTAKES[index]
    exercise = checks.exercise(name)
    impl = student(tmp_path, name, with_mistake(name, method, right, wrong), STUBS[f"{name}.py"], exercise.symbol)
    report = run_all(exercise, impl, visible=False)
    assert not report.passed
    assert {c.mistake.key for c in report.checks if not c.passed and c.mistake} == {key}, report.text
