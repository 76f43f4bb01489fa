"""Adam with and without bias correction: the size of its first steps
(lecture 002, Module 5.9; lecture 004, "Adam (with bias correction)").

m and v start at 0. Without correction, while the gradient g is steady,
m_t = (1 − β₁ᵗ) g and v_t = (1 − β₂ᵗ) g², so the step is
η (1 − β₁ᵗ)/√(1 − β₂ᵗ) per coordinate: 0.1/√0.001 ≈ 3.16 η at t = 1 with the
usual β₁ = 0.9, β₂ = 0.999 — lecture 004's "second moment close to zero, so
a very large step". Dividing m by 1 − β₁ᵗ and v by 1 − β₂ᵗ makes it η from
the first step. The run starts on the sigmoid neuron's plateau, where the
gradient barely changes over the first steps.
"""

import math

import numpy as np

from descentlab.labs import landscapes, plots, trajectories

NAME = "bias-correction"
TITLE = "Without bias correction Adam's first steps are several times too large"
CLAIM = ("With β₁ = 0.9, β₂ = 0.999, Adam's bias-corrected first step moves every coordinate by "
         "exactly η, whatever the gradient's size (m̂₁ = g₁, v̂₁ = g₁²); without the correction the first "
         "step is (1 − β₁)/√(1 − β₂) ≈ 3.16 times that, and while the gradient stays steady the "
         "uncorrected steps grow to several times η. After the first step, corrected steps stay at η per "
         "coordinate only as long as the gradient does not change.")
LECTURE = "lecture 002, Module 5.9 (why bias correction); lecture 004 (Adam with bias correction)"
NOTE = ("The guide lines assume a steady gradient. Its large steps take the uncorrected run off the "
        "plateau: by step 25 its gradient is 30 times the starting one and then turns in the valley, so its "
        "m and v no longer describe a steady gradient and the ratio leaves (1 − β₁ᵗ)/√(1 − β₂ᵗ); from then "
        "on the two runs are at different points with different gradients. The corrected run's gradient "
        "grows slowly along the plateau; m̂ (memory ~10 steps) follows the growth sooner than v̂ (memory "
        "~1000 steps), so m̂/√v̂ exceeds 1 and its steps grow above η per coordinate.")

LR = 0.01


def uncorrected_ratio(t, beta1=0.9, beta2=0.999):
    """(1 − β₁ᵗ)/√(1 − β₂ᵗ): uncorrected over corrected step under a steady gradient."""
    return (1 - beta1 ** t) / math.sqrt(1 - beta2 ** t)


def measure(fast):
    land = landscapes.get("neuron")
    steps = 50 if fast else 100
    specs = [trajectories.Spec("adam", {"lr": LR}, label="Adam, bias-corrected"),
             trajectories.Spec("adam", {"lr": LR, "bias_correction": False}, label="Adam, no correction")]
    paths = trajectories.run(land, specs, steps=steps)
    corrected, raw = (np.array(p.step_lengths()) for p in paths)
    ratio = raw / corrected
    numbers = {"lr": LR, "betas": [0.9, 0.999], "steps": steps,
               "first_step": {"corrected": corrected[0], "uncorrected": raw[0]},
               "first_step_ratio": float(ratio[0]), "predicted_first_step_ratio": uncorrected_ratio(1),
               "largest_ratio_first_20": float(ratio[:20].max()),
               "predicted_ratio_at_10": uncorrected_ratio(10), "measured_ratio_at_10": float(ratio[9])}
    numbers["checks"] = {
        "the corrected first step is η per coordinate (η√2 for two; ε shifts it by < 1e-4)":
            math.isclose(corrected[0], LR * math.sqrt(2), rel_tol=1e-4),
        "the uncorrected first step is (1 − β₁)/√(1 − β₂) times it, within 1%":
            math.isclose(ratio[0], uncorrected_ratio(1), rel_tol=0.01),
        "every one of the first 20 uncorrected steps is larger than the corrected one":
            bool(np.all(ratio[:20] > 1)),
        "the uncorrected steps reach over 5 times the corrected ones": numbers["largest_ratio_first_20"] > 5,
    }
    return numbers, {"landscape": land, "paths": paths, "ratio": ratio}


def draw(data, out):
    land, paths, ratio = data["landscape"], data["paths"], data["ratio"]
    fig, (middle, right) = plots.paths_and_panels(TITLE, land, paths,
                                                  "sigmoid neuron, both from the plateau at (-2, -2)")
    for i, p in enumerate(paths):
        lengths = p.step_lengths()
        middle.plot(np.arange(1, len(lengths) + 1), lengths, label=p.label, markevery=5, **plots.style(i))
    middle.axhline(LR * math.sqrt(2), color="0.3", linestyle=":", label="η√2 (η per coordinate)")
    plots.finish(middle, "step length", "step t", "step length |Δθ|", yscale="log")
    t = np.arange(1, len(ratio) + 1)
    right.plot(t, ratio, label="measured", markevery=5, **plots.style(1))
    right.plot(t, [uncorrected_ratio(k) for k in t], color="black", linestyle=":",
               label="(1 − β₁ᵗ)/√(1 − β₂ᵗ)")
    plots.finish(right, "how much too large", "step t", "uncorrected / corrected step")
    plots.note(middle, "η per coordinate holds under a steady gradient;\nthe corrected run's gradient grows "
                       "slowly, m̂\nfollows sooner than v̂: steps grow above η", y=0.2)
    plots.note(right, "from step ~25 the uncorrected run has left\nthe plateau (its gradient 30x larger, "
                      "then\nturning): the steady-gradient formula no\nlonger applies")
    return [plots.save(fig, out / "bias-correction.png")]
