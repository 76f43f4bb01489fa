"""Learning rate too small, right, too big, divergent: gradient descent on a
quadratic, with the threshold 2/λ_max drawn (lecture 002 Module 5.7; lecture 003).

On f = ½ pᵀAp each step multiplies the component along an eigenvector of
eigenvalue λ by (1 − lr·λ): it shrinks iff lr < 2/λ. With λ_max = 1 the
bound is lr < 2, and it is computed here from the Hessian, not assumed.
"""

import numpy as np

from descentlab.labs import hessian, landscapes, plots, trajectories

NAME = "learning-rates"
TITLE = "A learning rate above 2/λ_max diverges; below it, larger converges faster until it oscillates"
CLAIM = ("Gradient descent on a quadratic (κ = 10, λ_max = 1) converges for every learning rate "
         "below 2/λ_max and diverges for every one above it. A tiny rate crawls, 1/λ_max is fast, "
         "a rate just under the bound zig-zags across the valley, one just over it grows without end.")
LECTURE = "lecture 002, Module 5.7 (tips for the learning rate); lecture 003 (condition number, step size)"

CASES = (("too small", 0.02), ("right (1/λ_max)", 1.0), ("too big", 1.9), ("divergent", 2.1))


def measure(fast):
    land = landscapes.get("quadratic")
    eigs = hessian.eigenvalues(land.hessian(land.minima[0]))
    bound = hessian.stability_bound(float(eigs[-1]))
    steps = 40 if fast else 80
    specs = [trajectories.Spec("sgd", {"lr": lr}, label=f"{name}: lr={lr:g}") for name, lr in CASES]
    paths = trajectories.run(land, specs, steps=steps)
    sweep_lrs = np.geomspace(0.01, 2.4, 16 if fast else 40)
    sweep = [trajectories.run_one(land, trajectories.Spec("sgd", {"lr": float(lr)}), land.start, steps)
             for lr in sweep_lrs]
    start_loss = paths[0].losses[0]
    by_name = {name: p for (name, _), p in zip(CASES, paths)}
    small, right, big, divergent = (by_name[n] for n, _ in CASES)
    y_signs = np.sign([p[1] for p in big.points])
    numbers = {
        "lambda_max": float(eigs[-1]), "lambda_min": float(eigs[0]), "lr_bound": bound, "steps": steps,
        "cases": [{"case": n, "lr": lr, "final_loss": p.losses[-1], "diverged": p.diverged,
                   "left_frame_at": p.left_frame_at} for (n, lr), p in zip(CASES, paths)],
        "sweep": [{"lr": float(lr), "final_loss": p.losses[-1], "diverged": p.diverged}
                  for lr, p in zip(sweep_lrs, sweep)],
        "too_big_sign_changes": int((np.diff(y_signs) != 0).sum()),
    }
    numbers["checks"] = {
        "the divergent rate's loss grows every step": bool(np.all(np.diff(divergent.losses) > 0)),
        "the divergent rate is reported as diverged": divergent.diverged,
        "the too-big rate zig-zags (y changes sign every step) yet ends below its start":
            numbers["too_big_sign_changes"] == big.steps and big.losses[-1] < start_loss,
        "1/λ_max ends lowest of the four": right.losses[-1] == min(p.losses[-1] for p in paths),
        "the tiny rate ends 100x above 1/λ_max": small.losses[-1] > 100 * right.losses[-1],
        "every swept rate below 2/λ_max ends below its start, every one above diverges":
            all((p.losses[-1] < start_loss) == (lr < bound) and p.diverged == (lr > bound)
                for lr, p in zip(sweep_lrs, sweep)),
    }
    return numbers, {"landscape": land, "paths": paths, "sweep": (sweep_lrs, sweep), "bound": bound}


def draw(data, out):
    land, paths, bound = data["landscape"], data["paths"], data["bound"]
    fig, (middle, right) = plots.paths_and_panels(TITLE, land, paths, f"paths on {land.formula}")
    plots.draw_losses(middle, land, paths)
    middle.set_title("loss per step", fontsize=9)
    lrs, sweep = data["sweep"]
    finals = [max(p.losses[-1], 1e-30) for p in sweep]
    colours = [plots.COLOURS[1] if p.diverged else plots.COLOURS[0] for p in sweep]
    right.scatter(lrs, finals, c=colours, s=22, zorder=3)
    right.plot(lrs, finals, color="0.5", linewidth=0.8)
    right.axvline(bound, color="black", linestyle="--", label=f"2/λ_max = {bound:g}")
    right.axhline(paths[0].losses[0], color="0.4", linestyle=":", label="start loss")
    plots.finish(right, "final loss by learning rate (orange: diverged)", "learning rate", "final loss",
                 xscale="log", yscale="log")
    return [plots.save(fig, out / "learning-rates.png")]
