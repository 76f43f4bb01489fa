"""Momentum on a quadratic, eigenvalue by eigenvalue: the rates the theory
gives, measured (lecture 003, "condition number" and "SGD with momentum";
lecture 002, Module 5.4, momentum's oscillations).

Lecture 003 says that on a quadratic the rate of convergence is set by the
condition number κ = λ_max/λ_min; lecture 002 (Module 5.4) shows momentum
oscillating in and out of the valley. Both are exact on f = ½ Σᵢ λᵢ xᵢ²,
where every coordinate is one eigen-direction and evolves on its own:

* gradient descent multiplies xᵢ by (1 − ηλᵢ) every step; the best single
  η = 2/(λ_min + λ_max) makes the worst factor (κ−1)/(κ+1);
* heavy-ball momentum (our ``momentum``: v ← βv + g, x ← x − ηv) is
  x_{t+1} = x_t − ηλ x_t + β(x_t − x_{t−1}), whose characteristic polynomial
  z² − (1 + β − ηλ) z + β has roots of modulus √β whenever they are complex;
  with β = ((√κ−1)/(√κ+1))² and η = 4/(√λ_max + √λ_min)² every eigenvalue
  of [λ_min, λ_max] gets complex (or double) roots, so every direction
  converges at (√κ−1)/(√κ+1) (Polyak 1964; Goh, "Why Momentum Really
  Works", Distill 2017).

For one eigenvalue λ and a fixed η the two roots meet (a double root) at
β_c = (1 − √(ηλ))²: below it both are real and positive and the iterates
approach 0 without changing sign (over-damped), above it they are complex
and the iterates oscillate around 0 (under-damped), and the largest root is
smallest at β_c itself (critical damping is the fastest).

Everything here is measured on the iterates of the registry's ``sgd`` and
``momentum`` optimizers, and compared with those formulas.
"""

import math

import numpy as np
import torch

from descentlab import optimizers
from descentlab.labs import plots

NAME = "momentum-theory"
TITLE = "Momentum's rate is (√κ−1)/(√κ+1), gradient descent's (κ−1)/(κ+1); β_c = (1−√(ηλ))² damps critically"
CLAIM = ("On quadratics with κ = 10, 100 and 1000, gradient descent at its best learning rate "
         "2/(λ_min+λ_max) converges at (κ−1)/(κ+1) per step in its slowest eigen-directions, and "
         "heavy-ball momentum with β = ((√κ−1)/(√κ+1))², η = 4/(√λ_max+√λ_min)² at (√κ−1)/(√κ+1) in "
         "every one, as measured on the iterates: √κ instead of κ. For one eigenvalue λ and step η, "
         "momentum below β_c = (1−√(ηλ))² approaches the minimum without crossing it, above β_c it "
         "oscillates around it, and β_c itself converges fastest.")
LECTURE = ("lecture 003 (condition number; SGD with momentum); "
           "lecture 002, Module 5.4 (momentum oscillates in and out of the valley)")

NOTE = ("The lectures state that the condition number sets the rate on a quadratic (lecture 003) and show "
        "momentum's overshoots (lecture 002, Module 5.4); the exact rates and the optimal β and η are "
        "Polyak's (1964), as derived in Goh, \"Why Momentum Really Works\" (Distill, 2017). Each rate is "
        "measured on the iterates: exp of the least-squares slope of log |x_t| (its running envelope) over the "
        "second half of the run, one eigen-direction at a time. At the ends of the spectrum momentum's two "
        "roots coincide and x_t = (a + bt)·r^t, so the measured rate there sits a little above r "
        "(0.521 against 0.519 at κ = 10); the critically damped run of the third panel, 60 steps long, "
        "shows the same factor t. In the last panel the grid point just above β_c already oscillates "
        "(3 sign changes in 150 steps): its period is long because its roots are nearly real.")

KAPPAS = (10.0, 100.0, 1000.0)
EIGENVALUES = 9             # per quadratic, log-spaced from λ_min = 1/κ to λ_max = 1
DECADES = 150               # each run lasts until momentum's error has fallen by 10^-150 (fast: 10^-60)
DAMPING_LR, DAMPING_LAMBDA = 0.1, 1.0
DAMPING_STEPS = 60
TOLERANCE = 0.02            # on the rate, as a fraction of 1 − rate (the per-step progress)


def gd_rate(kappa):
    return (kappa - 1) / (kappa + 1)


def momentum_rate(kappa):
    root = math.sqrt(kappa)
    return (root - 1) / (root + 1)


def optimal_settings(lam_min, lam_max):
    """(GD's lr, heavy ball's lr, heavy ball's β) for a spectrum in [λ_min, λ_max]."""
    kappa = lam_max / lam_min
    return (2 / (lam_min + lam_max), 4 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2,
            momentum_rate(kappa) ** 2)


def root_modulus(lr, lam, beta):
    """The largest |z| with z² − (1 + β − ηλ) z + β = 0: the per-step factor of one direction."""
    return float(np.max(np.abs(np.roots([1.0, -(1 + beta - lr * lam), beta]))))


def critical_beta(lr, lam):
    """The β of the double root, below which momentum no longer oscillates (ηλ < 1)."""
    return (1 - math.sqrt(lr * lam)) ** 2


def iterate(name, lams, steps, **hp):
    """The iterates [steps + 1, len(lams)] of optimizer ``name`` on ½ Σ λᵢ xᵢ² from x = 1
    (its gradient λᵢxᵢ is written into ``.grad`` directly: autograd would only add time)."""
    lams = torch.as_tensor(lams, dtype=torch.float64)
    x = torch.ones_like(lams)
    optimizer = optimizers.create(name, [x], **hp)
    points = [x.clone()]
    for _ in range(steps):
        x.grad = lams * x
        optimizer.step()
        points.append(x.clone())
    return torch.stack(points).numpy()


def measured_rate(xs):
    """The per-step factor of a decaying sequence: exp of the least-squares slope of the log of
    its envelope (the largest |x_s| for s >= t) over the second half of the steps before it
    underflows (a fast direction reaches 1e-250 long before the slow ones)."""
    envelope = np.maximum.accumulate(np.abs(xs)[::-1])[::-1]
    end = int(np.count_nonzero(envelope > 1e-250))     # the envelope only falls
    if end < 2:
        return 0.0
    t = np.arange(end // 2 if end >= 8 else 0, end)
    slope = np.polyfit(t, np.log(envelope[t]), 1)[0]
    return float(math.exp(slope))


def sign_changes(xs):
    signs = np.sign(xs[np.abs(xs) > 0])
    return int((np.diff(signs) != 0).sum())


def measure_kappa(kappa, decades):
    lams = np.geomspace(1 / kappa, 1.0, EIGENVALUES)
    gd_lr, hb_lr, beta = optimal_settings(lams[0], lams[-1])
    steps = math.ceil(decades * math.log(10) / -math.log(momentum_rate(kappa)))
    gd = iterate("sgd", lams, steps, lr=gd_lr)
    hb = iterate("momentum", lams, steps, lr=hb_lr, momentum=beta)
    per_eigenvalue = [{"lambda": float(lam),
                       "gd": measured_rate(gd[:, i]), "gd_formula": abs(1 - gd_lr * lam),
                       "momentum": measured_rate(hb[:, i]), "momentum_formula": root_modulus(hb_lr, lam, beta)}
                      for i, lam in enumerate(lams)]
    row = {"kappa": kappa, "steps": steps, "gd_lr": gd_lr, "momentum_lr": hb_lr, "beta": beta,
           "gd_rate_formula": gd_rate(kappa), "momentum_rate_formula": momentum_rate(kappa),
           "gd_rate": max(r["gd"] for r in per_eigenvalue),
           "momentum_rate": max(r["momentum"] for r in per_eigenvalue),
           "per_eigenvalue": per_eigenvalue}
    row["steps_per_decade"] = {"gd": -1 / math.log10(row["gd_rate"]),
                               "momentum": -1 / math.log10(row["momentum_rate"])}
    return row


def close(measured, formula):
    return abs(measured - formula) <= TOLERANCE * (1 - formula)


def measure_damping(fast):
    lr, lam = DAMPING_LR, DAMPING_LAMBDA
    beta_c = critical_beta(lr, lam)
    shown = {"over-damped": beta_c / 2, "critical": beta_c, "under-damped": (1 + beta_c) / 2}
    runs = {label: iterate("momentum", [lam], DAMPING_STEPS, lr=lr, momentum=b)[:, 0]
            for label, b in shown.items()}
    sweep = np.linspace(0.0, 0.95, 20 if fast else 39)
    sweep_steps = 150
    swept = [iterate("momentum", [lam], sweep_steps, lr=lr, momentum=float(b))[:, 0] for b in sweep]
    numbers = {"lr": lr, "lambda": lam, "critical_beta": beta_c, "steps": DAMPING_STEPS,
               "shown": {label: {"beta": b, "sign_changes": sign_changes(runs[label]),
                                 "rate": measured_rate(runs[label]),
                                 "rate_formula": root_modulus(lr, lam, b)} for label, b in shown.items()},
               "sweep": [{"beta": float(b), "sign_changes": sign_changes(xs), "rate": measured_rate(xs),
                          "rate_formula": root_modulus(lr, lam, float(b))} for b, xs in zip(sweep, swept)]}
    return numbers, runs


def measure(fast):
    rows = [measure_kappa(kappa, 60 if fast else DECADES) for kappa in KAPPAS]
    damping, runs = measure_damping(fast)
    numbers = {"kappas": rows, "critical_damping": damping}
    shown, sweep = damping["shown"], damping["sweep"]
    beta_c = damping["critical_beta"]
    fastest = min(sweep, key=lambda r: r["rate"])
    spacing = sweep[1]["beta"] - sweep[0]["beta"]
    numbers["checks"] = {
        f"gradient descent's slowest direction converges at (κ−1)/(κ+1) (within {TOLERANCE:.0%} of 1 − rate)":
            all(close(r["gd_rate"], r["gd_rate_formula"]) for r in rows),
        "momentum's slowest direction converges at (√κ−1)/(√κ+1)":
            all(close(r["momentum_rate"], r["momentum_rate_formula"]) for r in rows),
        "every eigen-direction's measured rate matches the root of its characteristic polynomial":
            all(close(e["gd"], e["gd_formula"]) and close(e["momentum"], e["momentum_formula"])
                for r in rows for e in r["per_eigenvalue"]),
        "momentum needs fewer steps than gradient descent, the more so the larger κ":
            [r["steps_per_decade"]["gd"] / r["steps_per_decade"]["momentum"] for r in rows]
            == sorted(r["steps_per_decade"]["gd"] / r["steps_per_decade"]["momentum"] for r in rows)
            and all(r["momentum_rate"] < r["gd_rate"] for r in rows),
        "below and at β_c the iterates never cross the minimum, above β_c they oscillate around it":
            shown["over-damped"]["sign_changes"] == 0 and shown["critical"]["sign_changes"] == 0
            and shown["under-damped"]["sign_changes"] >= 5
            and all((r["sign_changes"] > 0) == (r["beta"] > beta_c) for r in sweep),
        "the fastest β of the sweep is the grid point nearest β_c": abs(fastest["beta"] - beta_c) <= spacing,
    }
    return numbers, {"kappas": rows, "damping": damping, "runs": runs}


def draw(data, out):
    rows, damping, runs = data["kappas"], data["damping"], data["runs"]
    fig, (ax_kappa, ax_eigen, ax_iterates, ax_beta) = plots.figure(4, width=4.3, height=4.4, title=TITLE)

    grid = np.geomspace(2, 3000, 200)
    for i, (key, formula, label) in enumerate((("gd_rate", gd_rate, "gradient descent: (κ−1)/(κ+1)"),
                                                ("momentum_rate", momentum_rate, "momentum: (√κ−1)/(√κ+1)"))):
        style = plots.style(i)
        ax_kappa.plot(grid, [1 - formula(k) for k in grid], color=style["color"], linestyle=style["linestyle"],
                      label=label)
        ax_kappa.plot([r["kappa"] for r in rows], [1 - r[key] for r in rows], marker=style["marker"],
                      color=style["color"], linestyle="none", markersize=8, label="measured")
    plots.finish(ax_kappa, "1 − rate: the progress per step (measured: markers)", "condition number κ",
                 "1 − rate", xscale="log", yscale="log")

    middle = rows[len(rows) // 2]
    lams = [e["lambda"] for e in middle["per_eigenvalue"]]
    dense = np.geomspace(lams[0], lams[-1], 200)
    for i, (key, label) in enumerate((("gd", f"gradient descent, η = {middle['gd_lr']:.3g}"),
                                      ("momentum", f"momentum, η = {middle['momentum_lr']:.3g}, "
                                                   f"β = {middle['beta']:.3g}"))):
        style = plots.style(i)
        formula = ([abs(1 - middle["gd_lr"] * lam) for lam in dense] if key == "gd" else
                   [root_modulus(middle["momentum_lr"], lam, middle["beta"]) for lam in dense])
        ax_eigen.plot(dense, formula, color=style["color"], linestyle=style["linestyle"], label=label)
        ax_eigen.plot(lams, [e[key] for e in middle["per_eigenvalue"]], marker=style["marker"],
                      color=style["color"], linestyle="none", markersize=7, label="measured")
    plots.finish(ax_eigen, f"rate per eigen-direction, κ = {middle['kappa']:g}", "eigenvalue λ",
                 "per-step factor of that direction", xscale="log")

    for i, (label, xs) in enumerate(runs.items()):
        beta = damping["shown"][label]["beta"]
        ax_iterates.plot(np.arange(len(xs)), xs, label=f"{label}: β = {beta:.3f}", markevery=6,
                         **plots.style(i))
    ax_iterates.axhline(0, color="black", linewidth=0.8)
    plots.finish(ax_iterates, f"one direction, λ = {damping['lambda']:g}, η = {damping['lr']:g}: x_t",
                 "step t", "x_t (the minimum is 0)")

    sweep = damping["sweep"]
    betas = [r["beta"] for r in sweep]
    oscillates = [r["sign_changes"] > 0 for r in sweep]
    dense_beta = np.linspace(0, betas[-1], 300)
    ax_beta.plot(dense_beta, [root_modulus(damping["lr"], damping["lambda"], b) for b in dense_beta],
                 color="0.3", label="largest root |z|")
    for flag, marker, colour, label in ((False, "o", plots.COLOURS[0], "measured: never crosses 0"),
                                        (True, "^", plots.COLOURS[1], "measured: oscillates")):
        ax_beta.plot([b for b, o in zip(betas, oscillates) if o == flag],
                     [r["rate"] for r, o in zip(sweep, oscillates) if o == flag],
                     marker=marker, color=colour, linestyle="none", label=label)
    ax_beta.axvline(damping["critical_beta"], color="black", linestyle="--",
                    label=f"β_c = (1 − √(ηλ))² = {damping['critical_beta']:.3f}")
    plots.finish(ax_beta, "rate by β: fastest at β_c, oscillating above", "momentum β", "per-step factor")
    return [plots.save(fig, out / "momentum-theory.png")]
