"""Line search against a fixed learning rate (lecture 002, Module 5.8).

At every step line search tries η ∈ {0.1, 0.5, 1, 10} along −∇L and keeps
the lowest loss; the fixed-rate run uses the lecture's η = 1. Both start on
the sigmoid neuron's plateau. Line search converges in far fewer steps, at the
price of 4 more loss evaluations per step.
"""

import numpy as np

from descentlab.labs import landscapes, plots, trajectories

NAME = "line-search"
TITLE = "Line search reaches the minimum in fewer steps, paying more loss evaluations per step"
CLAIM = ("On the sigmoid neuron, line search over η ∈ {0.1, 0.5, 1, 10} comes within 0.01 of the "
         "minimum in far fewer steps than gradient descent with the fixed η = 1, but each of its "
         "steps evaluates the loss five times (the right panel counts that work).")
LECTURE = "lecture 002, Module 5.8 (line search)"

TOL = 0.01


def measure(fast):
    land = landscapes.get("neuron")
    steps = 80 if fast else 300
    specs = [trajectories.Spec("sgd", {"lr": 1.0}, label="fixed η = 1"),
             trajectories.Spec("linesearch", {}, label="line search η ∈ {0.1, 0.5, 1, 10}")]
    fixed, search = paths = trajectories.run(land, specs, steps=steps)
    per_step = {p.label: p.evaluations / p.steps for p in paths}
    reached = {p.label: p.steps_to(land, TOL) for p in paths}
    numbers = {"steps": steps, "tolerance": TOL, "steps_to_tolerance": reached,
               "evaluations_per_step": per_step, "final_loss": {p.label: p.losses[-1] for p in paths}}
    numbers["checks"] = {
        "line search comes within 0.01 of the minimum": reached[search.label] is not None,
        "in fewer steps than the fixed rate": reached[search.label] < (reached[fixed.label] or steps + 1),
        "line search evaluates the loss 5 times per step, the fixed rate once":
            per_step == {fixed.label: 1.0, search.label: 5.0},
    }
    return numbers, {"landscape": land, "paths": paths}


def draw(data, out):
    land, paths = data["landscape"], data["paths"]
    fig, (middle, right) = plots.paths_and_panels(TITLE, land, paths, "sigmoid neuron from (-2, -2)")
    plots.draw_losses(middle, land, paths)
    middle.set_title("loss per step", fontsize=9)
    middle.legend(fontsize=8)
    floor = land.minimum_value
    for i, p in enumerate(paths):
        cost = np.arange(len(p.losses)) * p.evaluations / p.steps
        right.plot(cost, np.maximum(np.array(p.losses) - floor, 1e-16), label=p.label,
                   markevery=max(1, len(cost) // 10), **plots.style(i))
    plots.finish(right, "loss per unit of work", "loss evaluations", "loss - minimum", yscale="log")
    return [plots.save(fig, out / "line-search.png")]
