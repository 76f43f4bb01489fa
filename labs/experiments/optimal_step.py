"""The optimal step α* = gᵀg / gᵀHg against exact line search, and the
convergence rate against (κ−1)/(κ+1) (lecture 003).

On f = ½ pᵀAp the loss along −g is a parabola in α whose minimum is exactly
α* = gᵀg / gᵀAg, so gradient descent with α* *is* exact line search: the
golden-section search below, which only evaluates f, finds the same α.
Each such step lowers the loss by at least the factor ((κ−1)/(κ+1))²
(Kantorovich), with equality from a start proportional to (1/λ₁, 1/λ₂) in
the eigenbasis; the path then zig-zags at right angles.
"""

import math

import numpy as np
import torch

from descentlab import optimizers
from descentlab.labs import hessian, landscapes, plots, trajectories

NAME = "optimal-step"
TITLE = "α* = gᵀg/gᵀHg is exact line search; each step shrinks the loss by ((κ−1)/(κ+1))² at worst"
CLAIM = ("On quadratics with κ = 2, 10 and 50, the step α* = gᵀg/gᵀHg equals the step found by an "
         "exact (golden-section) line search, every α* step lowers the loss by at least the factor "
         "((κ−1)/(κ+1))², and from the worst-case start by exactly that factor: the larger κ, the slower.")
LECTURE = "lecture 003 (Taylor expansion, Hessian, condition number, optimal step size)"

KAPPAS = (2.0, 10.0, 50.0)


def golden_section(phi, low, high, tol=1e-12):
    """The minimiser of a unimodal ``phi`` on [low, high], from values of phi only."""
    inv = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - inv * (b - a), a + inv * (b - a)
    while b - a > tol * max(1.0, abs(b)):
        if phi(c) < phi(d):
            b, d = d, c
            c = b - inv * (b - a)
        else:
            a, c = c, d
            d = a + inv * (b - a)
    return (a + b) / 2


def optimal_step_descent(land, start, steps):
    """Gradient descent (registry SGD) whose learning rate is set to α* before each step;
    returns the trajectory and, per step, (α*, the exact line search's α)."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = optimizers.create("sgd", [p], lr=1.0)
    path = trajectories.Trajectory(trajectories.Spec("sgd", label="gradient descent with α*"),
                                   [tuple(start)], [float(land.loss(p.detach()))])
    alphas = []
    h = land.hessian(start)                    # a quadratic's Hessian is the same everywhere
    lam_min = float(hessian.eigenvalues(h)[0])
    for _ in range(steps):
        x = p.detach().clone()
        g = land.gradient(x)
        if float(g.norm()) < 1e-150:
            break
        alpha = hessian.optimal_step(g, h @ g)
        searched = golden_section(lambda a: float(land.loss(x - a * g)), 0.0, 1.0 / lam_min)
        alphas.append((alpha, searched))
        optimizer.param_groups[0]["lr"] = alpha
        optimizer.zero_grad()
        land.loss(p).backward()
        optimizer.step()
        path.points.append(tuple(float(v) for v in p.detach()))
        path.losses.append(float(land.loss(p.detach())))
        path.lrs.append(alpha)
    return path, alphas


def measure(fast):
    steps = 12 if fast else 25
    runs, numbers = {}, {"steps": steps, "kappas": []}
    for kappa in KAPPAS:
        land = landscapes.quadratic(kappa)
        worst = (-2.5, 2.5 / kappa)                  # ∝ (1/λ₁, 1/λ₂) = (κ, 1)
        path, alphas = optimal_step_descent(land, worst, steps)
        other, other_alphas = optimal_step_descent(land, land.start, steps)
        alphas += other_alphas
        bound = ((kappa - 1) / (kappa + 1)) ** 2
        ratios = [b / a for a, b in zip(path.losses, path.losses[1:]) if a > 1e-250]
        other_ratios = [b / a for a, b in zip(other.losses, other.losses[1:]) if a > 1e-250]
        runs[kappa] = (land, path, other, alphas)
        numbers["kappas"].append({
            "kappa": kappa, "rate_bound": bound, "worst_start": list(worst),
            "worst_start_ratios": ratios[:5], "other_start_max_ratio": max(other_ratios),
            "max_alpha_difference": max(abs(a - b) / a for a, b in alphas),
            "steps_to_1e-8_loss": next((t for t, v in enumerate(path.losses) if v < 1e-8), None)})
    rows = numbers["kappas"]
    numbers["checks"] = {
        "α* equals the exact line search's step (relative difference < 1e-6)":
            all(r["max_alpha_difference"] < 1e-6 for r in rows),
        "from the worst start every step shrinks the loss by exactly ((κ−1)/(κ+1))² (1e-9)":
            all(math.isclose(q, r["rate_bound"], rel_tol=1e-9) for r in rows for q in r["worst_start_ratios"]),
        "from another start no step does worse than the bound":
            all(r["other_start_max_ratio"] <= r["rate_bound"] * (1 + 1e-9) for r in rows),
        "larger κ, slower convergence":
            [r["rate_bound"] for r in rows] == sorted(r["rate_bound"] for r in rows),
    }
    return numbers, runs


def draw(data, out):
    land, path, _, _ = data[10.0]
    fig, (middle, right) = plots.paths_and_panels(TITLE, land, [path],
                                                  "κ = 10, worst-case start: right-angle zig-zag")
    for i, (kappa, (land, path, _, alphas)) in enumerate(data.items()):
        t = np.arange(len(path.losses))
        losses = np.maximum(np.array(path.losses), 1e-300)
        middle.plot(t, losses, label=f"κ = {kappa:g}", **plots.style(i))
        bound = ((kappa - 1) / (kappa + 1)) ** 2
        middle.plot(t, losses[0] * bound ** t, color="black", linestyle=":", linewidth=1)
        a, b = np.array(alphas).T
        right.scatter(a, b, label=f"κ = {kappa:g}, both starts", marker=plots.MARKERS[i],
                      color=plots.COLOURS[i], s=28)
    plots.finish(middle, "loss with α* steps; dotted: f₀·((κ−1)/(κ+1))^(2t)", "step", "loss", yscale="log")
    limits = [min(right.get_xlim()[0], right.get_ylim()[0]), max(right.get_xlim()[1], right.get_ylim()[1])]
    right.plot(limits, limits, color="0.4", linestyle="--", linewidth=1, label="equal")
    plots.finish(right, "the two steps agree", "α* = gᵀg / gᵀHg", "α from exact (golden-section) line search")
    return [plots.save(fig, out / "optimal-step.png")]
