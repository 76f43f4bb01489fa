"""Adagrad, RMSProp and Adam on the lecture's sparse feature (lecture 002, Module 5.9).

The sigmoid neuron is fitted to 100 points of which 80% have x = 0, so the
gradient of w (the sparse feature) is mostly 0 while the gradient of b (the
dense one, always on) never is. Each method divides η by the root of an
accumulated squared gradient v_t; the *effective learning rate* η/(√v_t + ε)
of a coordinate is computed here from the gradients along the path with the
lecture's formulas (Adagrad: v_t = Σ g²; RMSProp: v_t = β v_{t−1} + (1−β) g²
with torch's β = 0.99; Adam: the same with β₂ = 0.999 and bias correction).
Adagrad's sum only grows, so its rate on b decays like 1/√t; RMSProp's
average forgets, so its rate does not.
"""

import numpy as np

from descentlab.labs import landscapes, plots, trajectories

NAME = "adaptive-sparse"
TITLE = "Adagrad's rate on the dense coordinate decays like 1/√t; RMSProp's does not"
CLAIM = ("On the sparse-feature problem, after 100 steps Adagrad's effective learning rate on the "
         "dense coordinate b is below a tenth of RMSProp's, and falls like 1/√t; its rate on the "
         "sparse coordinate w stays higher than on b, which is what Adagrad is for.")
LECTURE = "lecture 002, Module 5.9 (Adagrad on sparse features, RMSProp, Adam)"
NOTE = ("The 1/√t guide line assumes a gradient of steady size: Adagrad's sum v_t then grows like t. "
        "From about step 100 Adagrad is near the minimum and its gradient on b shrinks (|g_b| about 2.7 "
        "at step 100, 0.24 at step 300), so the new g² add almost nothing to the sum, v_t stops growing "
        "and the rate levels off instead of falling further. RMSProp's and Adam's averages forget the "
        "large early gradients, so their rates rise as the gradients shrink near the minimum.")

LR = 0.1
AT = 100


def effective_lrs(name, landscape, path, hp):
    """η/(√v_t + ε) per step and coordinate, from the gradients along ``path``."""
    grads = np.array([landscape.gradient(p).numpy() for p in path.points[:-1]])
    v, rates = np.zeros(2), []
    for t, g in enumerate(grads, start=1):
        if name == "adagrad":
            v = v + g * g
            rate = hp["lr"] / (np.sqrt(v) + hp["eps"])
        elif name == "rmsprop":
            v = hp["alpha"] * v + (1 - hp["alpha"]) * g * g
            rate = hp["lr"] / (np.sqrt(v) + hp["eps"])
        else:
            beta2 = hp["betas"][1]
            v = beta2 * v + (1 - beta2) * g * g
            rate = hp["lr"] / (np.sqrt(v / (1 - beta2 ** t)) + hp["eps"])
        rates.append(rate)
    return np.array(rates)


def measure(fast):
    land = landscapes.get("sparse")
    steps = 150 if fast else 300
    specs = [trajectories.Spec(name, {"lr": LR}) for name in ("adagrad", "rmsprop", "adam")]
    paths = trajectories.run(land, specs, steps=steps)
    rates = {p.spec.optimizer: effective_lrs(p.spec.optimizer, land, p, p.summary(land, 1e-3)["hparams"])
             for p in paths}
    ada, rms = rates["adagrad"], rates["rmsprop"]
    # log-log slope of Adagrad's rate on b between steps 10 and AT: -1/2 for 1/sqrt(t)
    slope = float(np.log(ada[AT - 1, 1] / ada[9, 1]) / np.log(AT / 10))
    numbers = {"lr": LR, "steps": steps, "at_step": AT,
               "effective_lr_b": {k: float(r[AT - 1, 1]) for k, r in rates.items()},
               "effective_lr_w": {k: float(r[AT - 1, 0]) for k, r in rates.items()},
               "adagrad_over_rmsprop_on_b": float(ada[AT - 1, 1] / rms[AT - 1, 1]),
               "adagrad_loglog_slope_on_b": slope,
               "final_loss": {p.spec.optimizer: p.losses[-1] for p in paths},
               "minimum_value": land.minimum_value}
    numbers["checks"] = {
        f"Adagrad's effective lr on b at step {AT} < 1/10 of RMSProp's": numbers["adagrad_over_rmsprop_on_b"] < 0.1,
        "Adagrad's rate on b falls like 1/sqrt(t) or faster (log-log slope <= -0.45)": slope <= -0.45,
        f"RMSProp's rate on b at step {AT} is not below its rate at step 10": bool(rms[AT - 1, 1] >= rms[9, 1]),
        f"Adagrad's rate on the sparse w exceeds its rate on the dense b at step {AT}":
            bool(ada[AT - 1, 0] > ada[AT - 1, 1]),
    }
    return numbers, {"landscape": land, "paths": paths, "rates": rates}


def draw(data, out):
    land, paths, rates = data["landscape"], data["paths"], data["rates"]
    fig, (middle, right) = plots.paths_and_panels(TITLE, land, paths, "paths in (w, b); 80% of the x are 0")
    for i, (name, r) in enumerate(rates.items()):
        t = np.arange(1, len(r) + 1)
        middle.plot(t, r[:, 1], label=f"{name}: b (dense)", markevery=max(1, len(t) // 10), **plots.style(i))
        right.plot(t, r[:, 0], label=f"{name}: w (sparse)", markevery=max(1, len(t) // 10), **plots.style(i))
    t = np.arange(1, len(rates["adagrad"]) + 1)
    middle.plot(t, rates["adagrad"][0, 1] / np.sqrt(t), color="0.3", linestyle=":", label="∝ 1/√t")
    for ax, what in ((middle, "b, the dense coordinate"), (right, "w, the sparse coordinate")):
        plots.finish(ax, f"effective learning rate of {what}", "step", "effective lr  η/(√v + ε)",
                     xscale="log", yscale="log")
    plots.note(middle, "1/√t holds while |g| is steady;\nnear the minimum (step ≳ 100)\ng shrinks, Adagrad's sum "
                       "stops\ngrowing and its rate levels off", x=0.97, y=0.24, ha="right")
    return [plots.save(fig, out / "adaptive-sparse.png")]
