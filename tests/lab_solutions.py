"""Lab exercise solutions written from the lecture formulas, and the typical
mistakes as one-line edits of them: the student side of the grader's tests.

Nothing here comes from descentlab: each body is what a student types into
the shipped stub's TODO (``fill``), so the tests grade the real stubs.
"""

import importlib.util
import re
import textwrap

SOLUTIONS = {
    "momentum": {
        "init_state": 'return {"update": torch.zeros_like(param)}',
        "update": '''
            state["update"] = group["momentum"] * state["update"] + group["lr"] * grad
            param -= state["update"]
        ''',
    },
    "nesterov": {
        "init_state": 'return {"update": torch.zeros_like(param)}',
        "update": '''
            state["update"] = group["momentum"] * state["update"] + group["lr"] * grad
            param -= group["momentum"] * state["update"] + group["lr"] * grad
        ''',
    },
    "adagrad": {
        "init_state": 'return {"G": torch.zeros_like(param)}',
        "update": '''
            state["G"] = state["G"] + grad ** 2
            param -= group["lr"] * grad / (state["G"].sqrt() + group["eps"])
        ''',
    },
    "rmsprop": {
        "init_state": 'return {"v": torch.zeros_like(param)}',
        "update": '''
            alpha = group["alpha"]
            state["v"] = alpha * state["v"] + (1 - alpha) * grad ** 2
            param -= group["lr"] * grad / (state["v"].sqrt() + group["eps"])
        ''',
    },
    "adam": {
        "init_state": 'return {"t": 0, "m": torch.zeros_like(param), "v": torch.zeros_like(param)}',
        "update": '''
            beta1, beta2 = group["betas"]
            state["t"] += 1
            t = state["t"]
            state["m"] = beta1 * state["m"] + (1 - beta1) * grad
            state["v"] = beta2 * state["v"] + (1 - beta2) * grad ** 2
            m_hat = state["m"] / (1 - beta1 ** t)
            v_hat = state["v"] / (1 - beta2 ** t)
            param -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])
        ''',
    },
    "diffgrad": {
        "init_state": '''
            zero = torch.zeros_like(param)
            return {"t": 0, "m": zero.clone(), "v": zero.clone(), "previous": zero.clone()}
        ''',
        "update": '''
            beta1, beta2 = group["betas"]
            state["t"] += 1
            t = state["t"]
            state["m"] = beta1 * state["m"] + (1 - beta1) * grad
            state["v"] = beta2 * state["v"] + (1 - beta2) * grad ** 2
            xi = torch.sigmoid((state["previous"] - grad).abs())
            state["previous"] = grad.clone()
            step = group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)
            param -= step * xi * state["m"] / (state["v"].sqrt() + group["eps"])
        ''',
    },
    "step_decay": {
        "factor": "return self.gamma ** (epoch // self.step_size)",
    },
    "clip_grad_norm": {
        "clip_grad_norm": '''
            grads = [p.grad for p in params if p.grad is not None]
            norm = sum(float((g ** 2).sum()) for g in grads) ** 0.5
            scale = min(1.0, max_norm / (norm + 1e-6))
            for g in grads:
                g *= scale
            return norm
        ''',
    },
}

_PER_TENSOR = '''
    params = [p for p in params if p.grad is not None]
    norm = sum(float((p.grad ** 2).sum()) for p in params) ** 0.5
    for p in params:
        p.grad *= min(1.0, max_norm / (float(p.grad.norm()) + 1e-6))
    return norm
'''

# (exercise, method, the solution's text, the student's text, the mistake the grader must name)
MISTAKES = [
    ("momentum", "update", "param -= state", "param += state", "momentum_sign"),
    ("momentum", "update", 'group["momentum"] * state["update"] + group["lr"] * grad',
     'group["lr"] * grad', "no_history"),
    ("momentum", "update", '+ group["lr"] * grad', '+ (1 - group["momentum"]) * group["lr"] * grad', "ema_form"),
    ("momentum", "update", 'param -= state["update"]', 'param = param - state["update"]', "not_in_place"),
    ("nesterov", "update", 'param -= group["momentum"] * state["update"] + group["lr"] * grad',
     'param -= state["update"]', "no_lookahead"),
    ("nesterov", "update", "param -= group", "param += group", "momentum_sign"),
    ("adagrad", "update", "grad ** 2", "grad", "sum_of_g"),
    ("adagrad", "update", '(state["G"].sqrt() + group["eps"])', '(state["G"] + group["eps"]).sqrt()',
     "eps_inside_sqrt"),
    ("adagrad", "update", 'state["G"] + grad ** 2', "grad * grad", "no_accumulation"),
    ("adagrad", "update", '.sqrt()', '', "no_sqrt"),
    ("rmsprop", "update", 'alpha * state["v"] + (1 - alpha) * grad ** 2',
     '(1 - alpha) * state["v"] + alpha * grad ** 2', "beta_on_wrong_term"),
    ("rmsprop", "update", '(state["v"].sqrt() + group["eps"])', 'torch.sqrt(state["v"] + group["eps"])',
     "eps_inside_sqrt"),
    ("rmsprop", "update", 'alpha * state["v"] + (1 - alpha) * grad ** 2', 'state["v"] + grad * grad', "no_decay"),
    ("rmsprop", "update", '.sqrt()', '', "no_sqrt"),
    ("adam", "update", '(v_hat.sqrt() + group["eps"])', '(v_hat + group["eps"]) ** 0.5', "eps_inside_sqrt"),
    ("adam", "update", 'state["t"] += 1\nt = state["t"]', 't = state["t"]\nstate["t"] += 1',
     "bias_correction_t_from_zero"),
    # the same mistake in Python floats: 1 - beta1 ** 0 == 0.0 raises ZeroDivisionError
    ("adam", "update", 'state["t"] += 1\nt = state["t"]\n', 't = state["t"]\nstate["t"] += 1\n'
     'step = group["lr"] / (1 - beta1 ** t)\n', "bias_correction_t_from_zero"),
    ("adam", "update", 'm_hat = state["m"] / (1 - beta1 ** t)\nv_hat = state["v"] / (1 - beta2 ** t)',
     'm_hat, v_hat = state["m"], state["v"]', "no_bias_correction"),
    ("adam", "update", 'v_hat = state["v"] / (1 - beta2 ** t)', 'v_hat = state["v"]', "bias_correction_m_only"),
    ("adam", "update", 'beta1, beta2 = group["betas"]', 'beta2, beta1 = group["betas"]', "betas_swapped"),
    ("adam", "update", "param -= group", "param = param - group", "not_in_place"),
    ("diffgrad", "update", "grad.clone()", "grad", "aliased_previous_gradient"),
    ("diffgrad", "update", '(state["previous"] - grad).abs()', 'state["previous"] - grad',
     "friction_without_abs"),
    ("diffgrad", "update", "xi = torch.sigmoid",
     'if t == 1:\n    state["previous"] = grad.clone()\nxi = torch.sigmoid', "previous_gradient_from_first"),
    ("diffgrad", "update", 'xi = torch.sigmoid((state["previous"] - grad).abs())', "xi = 1", "no_friction"),
    ("diffgrad", "update",
     'step = group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)\n'
     'param -= step * xi * state["m"] / (state["v"].sqrt() + group["eps"])',
     'm_hat, v_hat = state["m"] / (1 - beta1 ** t), state["v"] / (1 - beta2 ** t)\n'
     'param -= group["lr"] * xi * m_hat / (v_hat.sqrt() + group["eps"])', "slide_eps"),
    ("diffgrad", "update", 'group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t)', 'group["lr"]',
     "no_bias_correction"),
    ("step_decay", "factor", "(epoch // self.step_size)", "((epoch + 1) // self.step_size)", "one_epoch_early"),
    ("step_decay", "factor", "(epoch // self.step_size)", "(epoch / self.step_size)", "no_floor"),
    ("step_decay", "factor", "(epoch // self.step_size)", "epoch", "every_epoch"),
    ("step_decay", "factor", "(epoch // self.step_size)", "math.ceil(epoch / self.step_size)", "ceil"),
    ("clip_grad_norm", "clip_grad_norm", SOLUTIONS["clip_grad_norm"]["clip_grad_norm"], _PER_TENSOR,
     "per_tensor"),
    ("clip_grad_norm", "clip_grad_norm", "min(1.0, max_norm / (norm + 1e-6))", "max_norm / (norm + 1e-6)",
     "always_rescaled"),
    ("clip_grad_norm", "clip_grad_norm", "g *= scale", "g.clamp_(-max_norm, max_norm)", "by_value"),
    ("clip_grad_norm", "clip_grad_norm", "float((g ** 2).sum()) for g in grads) ** 0.5",
     "float((g ** 2).sum()) for g in grads)", "squared_norm"),
    ("clip_grad_norm", "clip_grad_norm", "return norm",
     "return sum(float((g ** 2).sum()) for g in grads) ** 0.5", "returns_clipped_norm"),
]


def fill(stub, bodies):
    """The stub with each ``raise NotImplementedError("TODO: <method>")`` (and the
    TODO comments above it) replaced by ``bodies[method]``, indented to match."""
    for method, body in bodies.items():
        pattern = re.compile(rf'^(?P<indent>[ ]+)(# TODO.*\n(?P=indent)#.*\n|# TODO.*\n)?'
                             rf'(?P=indent)raise NotImplementedError\("TODO: {method}"\)\n', re.M)
        match = pattern.search(stub)
        assert match, f"the stub has no TODO body for {method}"
        code = textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", match["indent"])
        stub = stub[:match.start()] + code + stub[match.end():]
    return stub


def with_mistake(exercise, method, right, wrong):
    """The solution's bodies with ``right`` replaced by ``wrong`` in ``method``."""
    bodies = dict(SOLUTIONS[exercise])
    body = textwrap.dedent(bodies[method]).strip("\n")
    right = textwrap.dedent(right).strip("\n")
    assert right in body, f"{right!r} is not in the {exercise} solution"
    bodies[method] = body.replace(right, textwrap.dedent(wrong).strip("\n"), 1)
    return bodies


def student(tmp_path, exercise, bodies, stub, symbol):
    """The class (or function) ``symbol`` of ``stub`` filled with ``bodies``, written to
    ``tmp_path/<exercise>.py`` and imported from there, as a notebook would."""
    path = tmp_path / f"{exercise}.py"
    path.write_text(fill(stub, bodies))
    spec = importlib.util.spec_from_file_location(f"student_{exercise}_{id(bodies)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, symbol)
