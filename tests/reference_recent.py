"""Independent NumPy references for the optimizers after Adam that have no
torch.optim twin, written from the papers' algorithms and the authors' code
(not from our classes). Float64 arrays; each ``update(p, g, s, hp) -> new p``
keeps its state in the dict ``s`` under the authors' key names, so the tests
can compare it with ours. ``hp`` holds the full hyperparameters; L2 weight
decay and maximize are applied by the caller. Keyword switches turn one
ingredient off, to show that the tests notice when it is missing.
"""

import math

import numpy as np


def _zeros(s, key, p):
    return s.get(key, np.zeros_like(p))


def _adam_moments(p, g, s, b1, b2, first=None):
    """m, v of Adam (m fed with ``first`` when given), stored as exp_avg, exp_avg_sq."""
    s["step"] = s.get("step", 0) + 1
    s["exp_avg"] = b1 * _zeros(s, "exp_avg", p) + (1 - b1) * (g if first is None else first)
    s["exp_avg_sq"] = b2 * _zeros(s, "exp_avg_sq", p) + (1 - b2) * g * g
    return s["step"], s["exp_avg"], s["exp_avg_sq"]


def _authors_adam_step(p, direction, v, t, hp):
    """The step of the authors' diffGrad/AngularGrad/AdaInject code:
    lr * sqrt(1 - b2^t) / (1 - b1^t) * direction / (sqrt(v) + eps)."""
    b1, b2 = hp["betas"]
    step_size = hp["lr"] * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return p - step_size * direction / (np.sqrt(v) + hp["eps"])


def adabelief(p, g, s, hp, bias_correction=True, eps_in_s=True):
    """Zhuang et al. 2020 Algorithm 2 as in adabelief_pytorch 0.2.1 (rectify=False):
    s_t = b2 s + (1 - b2)(g - m)^2 + eps;  w -= lr m^ / (sqrt(s^) + eps)."""
    b1, b2 = hp["betas"]
    eps = hp["eps"]
    t = s["step"] = s.get("step", 0) + 1
    m = s["exp_avg"] = b1 * _zeros(s, "exp_avg", p) + (1 - b1) * g
    var = b2 * _zeros(s, "exp_avg_var", p) + (1 - b2) * (g - m) ** 2
    s["exp_avg_var"] = var + eps if eps_in_s else var
    if bias_correction:
        m_hat, s_hat = m / (1 - b1 ** t), s["exp_avg_var"] / (1 - b2 ** t)
    else:
        m_hat, s_hat = m, s["exp_avg_var"]
    return p - hp["lr"] * m_hat / (np.sqrt(s_hat) + eps)


def diffgrad(p, g, s, hp, friction=True, first_previous=None):
    """Dubey et al. 2019, diffGrad_v2.py: xi = 1 / (1 + exp(-|g_prev - g|)), g_0 = 0
    (``first_previous="g1"`` starts from g_1 instead, ``friction=False`` sets xi = 1)."""
    b1, b2 = hp["betas"]
    t, m, v = _adam_moments(p, g, s, b1, b2)
    previous = s.get("previous_grad", g if first_previous == "g1" else np.zeros_like(p))
    xi = 1.0 / (1.0 + np.exp(-np.abs(previous - g))) if friction else 1.0
    s["previous_grad"] = g.copy()
    return _authors_adam_step(p, m * xi, v, t, hp)


def angulargrad(p, g, s, hp):
    """Roy et al. 2021, angulargrad/{cos,tan}angulargrad.py: the angle between
    consecutive gradients, with the minimum replaced for the whole tensor when
    the angle grew in fewer elements than it did not (``s["votes"]`` counts
    how often that happened and how often not)."""
    b1, b2 = hp["betas"]
    method = hp["method"]
    t, m, v = _adam_moments(p, g, s, b1, b2)
    previous = _zeros(s, "previous_grad", p)
    low = _zeros(s, "min", p)
    final = _zeros(s, f"final_{method}_theta", p)
    tan_theta = np.abs((previous - g) / (1 + previous * g))
    cos_theta = 1 / np.sqrt(1 + tan_theta ** 2)
    angle = np.degrees(np.arctan(tan_theta))
    grew = np.count_nonzero(angle > low)
    adopted = grew < angle.size - grew
    if adopted:
        low = angle
        final = cos_theta if method == "cos" else tan_theta
    votes = s.setdefault("votes", {True: 0, False: 0})
    votes[adopted] += 1
    s["previous_grad"], s["min"], s[f"final_{method}_theta"] = g.copy(), low.copy(), final.copy()
    phi = np.tanh(np.abs(final)) * 0.5 + 0.5
    return _authors_adam_step(p, m * phi, v, t, hp)


def adainject(p, g, s, hp, inject=True):
    """Dubey et al. 2022, CIFAR10/AdamInject.py: m is fed (g + (w_prev - w) g^2) / 2
    from the second step on; w_prev is the parameter before the previous step."""
    b1, b2 = hp["betas"]
    first = g
    if inject and s.get("step", 0) >= 1:
        first = (g + (s["previous_data"] - p) * g * g) / 2
    t, m, v = _adam_moments(p, g, s, b1, b2, first=first)
    s["previous_data"] = p.copy()
    return _authors_adam_step(p, m, v, t, hp)


REFERENCES = {"adabelief": adabelief, "diffgrad": diffgrad, "angulargrad": angulargrad,
              "adainject": adainject}


# Khapra CS7015 lecture 5: the sigmoid neuron on two points, and Module 5.8's line search.
X, Y = np.array([0.5, 2.5]), np.array([0.2, 0.9])


def neuron_error(w, b):
    f = 1 / (1 + np.exp(-(w * X + b)))
    return float(np.sum(0.5 * (f - Y) ** 2))


def neuron_grad(w, b):
    f = 1 / (1 + np.exp(-(w * X + b)))
    common = (f - Y) * f * (1 - f)
    return float(np.sum(common * X)), float(np.sum(common))


def line_search_gradient_descent(w, b, etas, epochs):
    """``do_line_search_gradient_descent`` of lecture 002 Module 5.8; returns [(w, b)] per epoch."""
    path = []
    for _ in range(epochs):
        dw, db = neuron_grad(w, b)
        min_error, best_w, best_b = math.inf, w, b
        for eta in etas:
            tmp_w, tmp_b = w - eta * dw, b - eta * db
            if neuron_error(tmp_w, tmp_b) < min_error:
                best_w, best_b, min_error = tmp_w, tmp_b, neuron_error(tmp_w, tmp_b)
        w, b = best_w, best_b
        path.append((w, b))
    return path


def armijo_gradient_descent(w, b, eta0, epochs, c=1e-4, shrink=0.5, max_backtracks=30):
    """Backtracking (Nocedal & Wright Algorithm 3.1) on the same neuron."""
    path = []
    for _ in range(epochs):
        dw, db = neuron_grad(w, b)
        e0, eta = neuron_error(w, b), eta0
        for _ in range(max_backtracks + 1):
            if neuron_error(w - eta * dw, b - eta * db) <= e0 - c * eta * (dw * dw + db * db):
                w, b = w - eta * dw, b - eta * db
                break
            eta *= shrink
        path.append((w, b))
    return path
