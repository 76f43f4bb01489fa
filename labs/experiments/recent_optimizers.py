"""The recent optimizers of lecture 004 on Rosenbrock and on a saddle.

Lecture 004 lists Adam's problems ("overshoots the optima, oscillates near
the optima") and the optimizers meant to fix them: diffGrad multiplies the
step by a friction AbsSig(g_{t−1} − g_t), which falls to ½ when the gradient
barely changes ("small local gradient change, high friction, slow learning
rate"); AngularGrad and AdaInject damp the step
in similar ways; RAdam takes plain momentum steps until its variance estimate
is reliable; AdaBelief divides by the spread of the gradient around its mean.
It also names saddle points as where plain SGD stalls.

All run with the same learning rate 0.02 (SGD too), from the landscapes'
default starts; the saddle run starts 10⁻⁶ off the ridge.
"""

from descentlab.labs import landscapes, plots, trajectories

NAME = "recent-optimizers"
TITLE = "In Rosenbrock's flat valley friction slows diffGrad & co.; on a saddle adaptive steps escape first"
CLAIM = ("On Rosenbrock's flat, curved valley the gradient changes little from step to step, so "
         "diffGrad's friction, and AngularGrad's and AdaInject's damping, slow them: after the same "
         "steps they are farther from the minimum than Adam and AdaBelief. RAdam's first, un-adapted "
         "momentum step (0.02 × a gradient of 150) leaves the frame. On the saddle x² − y², every "
         "adaptive optimizer escapes in fewer steps than SGD at the same learning rate.")
LECTURE = "lecture 004 (problems of Adam, diffGrad, RAdam, AdaBelief, AngularGrad, AdaInject; saddle points)"

LR = 0.02
NAMES = ("sgd", "adam", "radam", "adabelief", "diffgrad", "angulargrad", "adainject")
SADDLE_START = (-1.5, 1e-6)
UNDAMPED, DAMPED = ("adam", "adabelief"), ("diffgrad", "angulargrad", "adainject")


def measure(fast):
    rosen, saddle = landscapes.get("rosenbrock"), landscapes.get("saddle")
    steps = 400 if fast else 1000
    specs = [trajectories.Spec(name, {"lr": LR}) for name in NAMES]
    on_rosen = trajectories.run(rosen, specs[1:], steps=steps)
    on_saddle = trajectories.run(saddle, specs, start=SADDLE_START, steps=max(steps, 400))
    distance = {p.spec.optimizer: rosen.distance_to_minimum(p.points[-1]) for p in on_rosen}
    escape = {p.spec.optimizer: p.left_frame_at for p in on_saddle}
    numbers = {"lr": LR, "steps": steps, "saddle_start": list(SADDLE_START),
               "rosenbrock": {p.spec.optimizer: {"distance_to_minimum": distance[p.spec.optimizer],
                                                 "final_loss": p.losses[-1], "left_frame_at": p.left_frame_at}
                              for p in on_rosen},
               "saddle_escape_step": escape}
    numbers["checks"] = {
        "after the same steps diffGrad, AngularGrad and AdaInject are farther from the minimum than Adam and AdaBelief":
            min(distance[n] for n in DAMPED) > max(distance[n] for n in UNDAMPED),
        "RAdam's first step leaves the Rosenbrock frame": on_rosen[1].left_frame_at == 1,
        "every adaptive optimizer escapes the saddle before SGD":
            escape["sgd"] is not None and all(escape[n] is not None and escape[n] < escape["sgd"]
                                              for n in NAMES[1:]),
    }
    return numbers, {"rosenbrock": (rosen, on_rosen), "saddle": (saddle, on_saddle)}


def draw(data, out):
    (rosen, on_rosen), (saddle, on_saddle) = data["rosenbrock"], data["saddle"]
    fig, (middle, right) = plots.paths_and_panels(TITLE, rosen, on_rosen,
                                                  f"Rosenbrock, lr = {LR}, {on_rosen[0].steps} steps", width=4.8)
    plots.draw_losses(middle, rosen, on_rosen)
    middle.set_title("Rosenbrock: loss per step", fontsize=9)
    plots.draw_paths(right, saddle, on_saddle)
    right.set_title(f"saddle x² − y² from {SADDLE_START}, lr = {LR}", fontsize=9)
    return [plots.save(fig, out / "recent-optimizers.png")]
