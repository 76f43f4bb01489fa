"""Learning-rate decay schedules side by side (lecture 000, "learning rate
decay"; lecture 001, step decay; lecture 002, Module 5.7).

Gradient descent on the quadratic (λ_max = 1) starts at lr₀ = 2.2, above the
stability bound 2/λ_max = 2. Held constant it diverges; every schedule of
``optimizers.schedules``, with its default settings and stepped once per
step, brings the rate under the bound and the run converges.
"""

import numpy as np

from descentlab.labs import landscapes, plots, trajectories
from descentlab.optimizers import schedules

NAME = "schedules"
TITLE = "Decay schedules bring a too-large learning rate under 2/λ_max; held constant it diverges"
CLAIM = ("Started at lr₀ = 2.2 > 2/λ_max, gradient descent with a constant rate diverges, while the "
         "step, exponential, 1/t, 1/√t and plateau schedules (library defaults) decay the rate below "
         "the bound within a few steps and converge (1/t, whose rate keeps shrinking, slowest).")
LECTURE = "lecture 000 (learning-rate decay formulas); lecture 001 (step decay); lecture 002, Module 5.7"

LR0 = 2.2
START = (-2.5, 0.5)
NAMES = ("constant", "step", "exponential", "inverse_time", "inverse_sqrt", "plateau")


def measure(fast):
    land = landscapes.get("quadratic")
    steps = 40 if fast else 80
    specs = [trajectories.Spec("sgd", {"lr": LR0}, label=name, schedule=name) for name in NAMES]
    paths = trajectories.run(land, specs, start=START, steps=steps)
    start_loss = paths[0].losses[0]
    numbers = {"lr0": LR0, "lr_bound": 2.0, "steps": steps, "start": list(START),
               "runs": [{"schedule": p.label, "formula": schedules.info(p.label).formula,
                         "defaults": schedules.defaults(p.label), "final_loss": p.losses[-1],
                         "diverged": p.diverged, "left_frame_at": p.left_frame_at,
                         "first_step_below_bound": next((t for t, lr in enumerate(p.lrs) if lr < 2.0), None)}
                        for p in paths]}
    constant, *decaying = paths
    numbers["checks"] = {
        "the constant rate diverges": constant.diverged,
        "every decaying schedule ends 10x below the start loss":
            all(p.losses[-1] < 0.1 * start_loss and not p.diverged for p in decaying),
        "every decaying schedule is below 2/λ_max within 10 steps":
            all(r["first_step_below_bound"] is not None and r["first_step_below_bound"] <= 10
                for r in numbers["runs"][1:]),
    }
    return numbers, {"landscape": land, "paths": paths}


def draw(data, out):
    land, paths = data["landscape"], data["paths"]
    fig, (middle, right) = plots.paths_and_panels(TITLE, land, paths, f"paths from {START}, lr₀ = {LR0}",
                                                  legend=False)
    for i, p in enumerate(paths):
        middle.plot(np.arange(len(p.lrs)), p.lrs, label=p.label, markevery=4, **plots.style(i))
    middle.axhline(2.0, color="black", linestyle="--", label="2/λ_max")
    plots.finish(middle, "the learning rate of each step", "step", "learning rate", yscale="log")
    plots.draw_losses(right, land, paths)
    right.set_title("loss per step", fontsize=9)
    return [plots.save(fig, out / "schedules.png")]
