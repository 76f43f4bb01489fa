"""Independent NumPy references for the lecture variants that have no
torch.optim twin, written from the lecture formulas (not from our classes).

Each reference is ``update(p, g, s, hp) -> new p`` on float64 arrays; ``s`` is
a dict the reference keeps its own state in; ``hp`` holds the full
hyperparameters. Maximize and weight decay are applied by the harness in
``test_optimizer_reference.py``.
"""

import numpy as np


def momentum(p, g, s, hp):
    """Lecture 002 Module 5.4: v = mu v + g; lecture 000 slide 24: v = b v + (1 - b) g."""
    mu = hp["momentum"]
    v = s.get("v", np.zeros_like(p))
    v = mu * v + (1 - mu) * g if hp["ema"] else mu * v + g
    s["v"] = v
    return p - hp["lr"] * v


def adagrad(p, g, s, hp):
    """Lecture 000 slide 28 (eps inside: eta / sqrt(eps + G)) and eq. 8 (eps outside)."""
    s["t"] = s.get("t", 0) + 1
    G = s.get("G", np.full_like(p, hp["initial_accumulator_value"])) + g * g
    s["G"] = G
    lr = hp["lr"] / (1 + (s["t"] - 1) * hp["lr_decay"])
    denom = np.sqrt(G + hp["eps"]) if hp["eps_in_sqrt"] else np.sqrt(G) + hp["eps"]
    return p - lr * g / denom


def rmsprop(p, g, s, hp):
    """Lecture 000 slide 32: E[g^2] = a E[g^2] + (1 - a) g^2, w -= eta g / sqrt(E[g^2] + eps)."""
    a = hp["alpha"]
    v = a * s.get("v", np.zeros_like(p)) + (1 - a) * g * g
    s["v"] = v
    if hp["centered"]:
        m = a * s.get("m", np.zeros_like(p)) + (1 - a) * g
        s["m"] = m
        v = v - m * m
    denom = np.sqrt(v + hp["eps"]) if hp["eps_in_sqrt"] else np.sqrt(v) + hp["eps"]
    if hp["momentum"] > 0:
        b = hp["momentum"] * s.get("b", np.zeros_like(p)) + g / denom
        s["b"] = b
        return p - hp["lr"] * b
    return p - hp["lr"] * g / denom


def adam(p, g, s, hp):
    """Lecture 000 Algorithm 1 (Kingma & Ba); AMSGrad (Reddi et al.); CS7015's eps in the sqrt."""
    b1, b2 = hp["betas"]
    t = s["t"] = s.get("t", 0) + 1
    m = s["m"] = b1 * s.get("m", np.zeros_like(p)) + (1 - b1) * g
    v = s["v"] = b2 * s.get("v", np.zeros_like(p)) + (1 - b2) * g * g
    if hp["amsgrad"]:
        v = s["vmax"] = np.maximum(s.get("vmax", np.zeros_like(p)), v)
    if hp["bias_correction"]:
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    else:
        m_hat, v_hat = m, v
    denom = np.sqrt(v_hat + hp["eps"]) if hp["eps_in_sqrt"] else np.sqrt(v_hat) + hp["eps"]
    return p - hp["lr"] * m_hat / denom


REFERENCES = {"momentum": momentum, "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam,
              "amsgrad": adam}
