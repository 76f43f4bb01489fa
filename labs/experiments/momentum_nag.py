"""Gradient descent, momentum and Nesterov on the sigmoid neuron and on a
ravine (lecture 002, Modules 5.3-5.5).

Momentum crosses the gentle plateau that plain gradient descent crawls over,
but runs past the minimum and makes u-turns; NAG computes its gradient at the
look-ahead point w − γ·update, sees the slope turn earlier and overshoots less.
The run uses the lecture's η = 1, γ = 0.9 on the neuron.
"""

from descentlab.labs import landscapes, plots, trajectories

NAME = "momentum-nag"
TITLE = "Momentum overshoots the minimum; NAG, looking ahead, overshoots less"
CLAIM = ("From the same start with the same learning rate, momentum-based gradient descent runs "
         "further past the minimum than Nesterov accelerated gradient, on the sigmoid neuron's "
         "error surface and on a ravine; both leave plain gradient descent behind on the plateau.")
LECTURE = "lecture 002, Modules 5.3-5.5 (gradient descent, momentum, NAG)"

SETUPS = (("neuron", 1.0), ("ravine", 0.5))    # (landscape, lr); momentum 0.9 throughout


def specs(lr):
    return [trajectories.Spec("sgd", {"lr": lr}, label=f"gradient descent, lr={lr:g}"),
            trajectories.Spec("momentum", {"lr": lr, "momentum": 0.9}, label="momentum, γ=0.9"),
            trajectories.Spec("nesterov", {"lr": lr, "momentum": 0.9}, label="NAG, γ=0.9")]


def measure(fast):
    steps = 100 if fast else 200
    runs, numbers = {}, {"steps": steps, "momentum": 0.9}
    for name, lr in SETUPS:
        land = landscapes.get(name)
        runs[name] = trajectories.run(land, specs(lr), steps=steps)
        numbers[name] = {"lr": lr, **{key: {"overshoot": p.overshoot(land), "final_loss": p.losses[-1],
                                            "steps_to_0.01": p.steps_to(land, 0.01)}
                                      for key, p in zip(("gd", "momentum", "nag"), runs[name])}}
    neuron, ravine = numbers["neuron"], numbers["ravine"]
    numbers["checks"] = {
        "NAG overshoots less than momentum on the neuron":
            neuron["nag"]["overshoot"] < neuron["momentum"]["overshoot"],
        "NAG overshoots less than momentum on the ravine":
            ravine["nag"]["overshoot"] < ravine["momentum"]["overshoot"],
        "momentum ends below plain gradient descent on the neuron (the plateau)":
            neuron["momentum"]["final_loss"] < neuron["gd"]["final_loss"],
        "plain gradient descent never overshoots":
            neuron["gd"]["overshoot"] == 0 and ravine["gd"]["overshoot"] == 0,
    }
    return numbers, {name: (landscapes.get(name), paths) for name, paths in runs.items()}


def draw(data, out):
    (neuron, neuron_paths), (ravine, ravine_paths) = data["neuron"], data["ravine"]
    fig, (middle, right) = plots.paths_and_panels(TITLE, neuron, neuron_paths,
                                                  "sigmoid neuron on (0.5, 0.2), (2.5, 0.9)")
    plots.draw_paths(middle, ravine, ravine_paths, legend=False)
    middle.set_title("ravine: quadratic, κ = 25, rotated 30°", fontsize=9)
    plots.draw_losses(right, neuron, neuron_paths)
    right.set_title("sigmoid neuron: loss per step", fontsize=9)
    right.legend(fontsize=8)
    return [plots.save(fig, out / "momentum-nag.png")]
