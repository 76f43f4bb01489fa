"""Gradient clipping on a cliff (lecture 003, "exploding gradients ...
gradient clipping").

The ``cliff`` landscape is a gentle bowl cut by a 20-high step whose face is
0.2 wide, so its gradient there is up to 150 times the bowl's. Gradient
descent with η = 0.1 walks down the bowl, lands on the face, and one step of
η·‖g‖ throws it out of the picture; with the gradient's norm clipped to 1 every
step is at most η, and the path walks down the face towards the minimum.
"""

import numpy as np

from descentlab.labs import landscapes, plots, trajectories

NAME = "clipping"
TITLE = "On a cliff one unclipped step jumps out of the picture; clipped, the path walks down"
CLAIM = ("Gradient descent (η = 0.1) reaching the cliff face takes one step of several units that "
         "leaves the frame; with the gradient norm clipped to 1 no step exceeds η and the path "
         "walks down the face and on towards the minimum at its foot.")
LECTURE = "lecture 003 (vanishing and exploding gradients, gradient clipping)"

LR, MAX_NORM = 0.1, 1.0


def measure(fast):
    land = landscapes.get("cliff")
    steps = 150 if fast else 300
    specs = [trajectories.Spec("sgd", {"lr": LR}, label="no clipping"),
             trajectories.Spec("sgd", {"lr": LR}, label=f"clip_grad_norm({MAX_NORM:g})", clip_norm=MAX_NORM)]
    raw, clipped = paths = trajectories.run(land, specs, steps=steps)
    numbers = {"lr": LR, "max_norm": MAX_NORM, "steps": steps, "start": list(land.start),
               "largest_step": {p.label: max(p.step_lengths()) for p in paths},
               "left_frame_at": {p.label: p.left_frame_at for p in paths},
               "final_point": {p.label: list(p.points[-1]) for p in paths},
               "final_loss": {p.label: p.losses[-1] for p in paths}}
    numbers["checks"] = {
        "without clipping the path leaves the frame": raw.left_frame_at is not None,
        "its largest step is over 20 times η": max(raw.step_lengths()) > 20 * LR,
        "with clipping no step exceeds η·max_norm": max(clipped.step_lengths()) <= LR * MAX_NORM * (1 + 1e-9),
        "with clipping the path stays in the frame and ends past the cliff, below its foot's level + 1":
            clipped.left_frame_at is None and clipped.points[-1][0] > landscapes.CLIFF_HALF_WIDTH
            and clipped.losses[-1] < 1.0,
    }
    return numbers, {"landscape": land, "paths": paths}


def draw(data, out):
    land, paths = data["landscape"], data["paths"]
    fig, (right,) = plots.paths_and_panels(TITLE, land, paths, "the cliff: a bowl with a 20-high step at x = 0",
                                           panels=1, width=5.2)
    left = fig.axes[0]
    left.axvspan(-landscapes.CLIFF_HALF_WIDTH, landscapes.CLIFF_HALF_WIDTH, color="#D55E00", alpha=0.12,
                 label="cliff face")
    left.legend(fontsize=8, loc="lower left")
    for i, p in enumerate(paths):
        lengths = p.step_lengths()
        right.plot(np.arange(1, len(lengths) + 1), lengths, label=p.label, markevery=10, **plots.style(i))
    right.axhline(LR * MAX_NORM, color="0.3", linestyle=":", label="η · max_norm")
    plots.finish(right, "step length", "step", "step length", yscale="log")
    return [plots.save(fig, out / "clipping.png")]
