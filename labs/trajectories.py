"""Optimizer paths on a 2-D landscape: every point and loss, nothing tuned behind your back.

``run(landscape, specs, start, steps)`` starts every optimizer from the same
point and steps it ``steps`` times on the landscape's loss. An optimizer is a
registry name with its hyperparameters (``optimizers.defaults(name)`` unless
a ``Spec`` overrides them), optionally a learning-rate schedule (stepped once
per step; ``plateau`` is given the current loss) and gradient clipping
(between ``backward`` and ``step``): nothing else is added, so a learning
rate too large for the surface shows as it is.

A path stops early when its point becomes non-finite or leaves the landscape's
frame; the last recorded point is the one outside, so the picture draws the
path up to the frame's edge. It has *diverged* when its point became
non-finite, or when it left the frame with a loss above the start's (on the
saddle, leaving the frame downhill is an escape, not a divergence).

``write(out, landscape, paths)`` writes ``trajectories.png`` (contours and
paths, loss per step), ``trajectories.gif`` (the paths growing, matplotlib's
PillowWriter) and ``trajectories.json`` (per optimizer: final point and loss,
distance to the nearest minimum, steps to come within ``tol`` of it,
diverged or not).
"""

import dataclasses
import math
import pathlib

import torch

from descentlab import io, optimizers
from descentlab.labs.threads import one_thread
from descentlab.optimizers import clipping, schedules


@dataclasses.dataclass(frozen=True)
class Spec:
    """One optimizer to run: a registry name, or any ``torch.optim.Optimizer`` class (a
    student's), and what changes from its defaults."""
    optimizer: object
    hparams: dict = dataclasses.field(default_factory=dict)
    label: str = None
    schedule: str = None
    schedule_hparams: dict = dataclasses.field(default_factory=dict)
    clip_norm: float = None
    lr_source: str = None      # where hparams["lr"] came from, when not from the caller's code

    @property
    def name(self):
        if self.label:
            return self.label
        extras = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.hparams.items()]
        if self.schedule:
            extras.append(self.schedule)
        if self.clip_norm:
            extras.append(f"clip {self.clip_norm:g}")
        return f"{self.optimizer_name} ({', '.join(extras)})" if extras else self.optimizer_name

    @property
    def optimizer_name(self):
        return self.optimizer if isinstance(self.optimizer, str) else self.optimizer.__name__

    def defaults(self):
        if isinstance(self.optimizer, str):
            return optimizers.defaults(self.optimizer)
        return optimizers.registry.constructor_defaults(self.optimizer)

    def create(self, params):
        if isinstance(self.optimizer, str):
            return optimizers.create(self.optimizer, params, **self.hparams)
        return self.optimizer(params, **self.hparams)


@dataclasses.dataclass
class Trajectory:
    """The recorded run of one ``Spec``: ``points[0]`` is the start, ``losses[t]`` is f(points[t])."""
    spec: Spec
    points: list
    losses: list
    lrs: list = dataclasses.field(default_factory=list)   # the learning rate of each step (None: no lr)
    evaluations: int = 0            # loss-and-gradient evaluations (line search makes several per step)
    left_frame_at: int = None       # the step whose point is outside the frame
    diverged: bool = False

    @property
    def label(self):
        return self.spec.name

    @property
    def steps(self):
        return len(self.points) - 1

    def step_lengths(self):
        """|x_{t+1} - x_t| for every step."""
        return [math.dist(a, b) for a, b in zip(self.points, self.points[1:])]

    def overshoot(self, landscape):
        """How far the path ran past the (first) minimum, measured along the line
        from the start through the minimum; 0 if it never passed it."""
        m = landscape.minima[0]
        direction = [s - c for s, c in zip(self.points[0], m)]
        norm = math.hypot(*direction)
        beyond = [-((p[0] - m[0]) * direction[0] + (p[1] - m[1]) * direction[1]) / norm
                  for p in self.points]
        return max(0.0, max(beyond))

    def steps_to(self, landscape, tol):
        """The first step whose point is within ``tol`` of a minimum (None if never)."""
        for t, point in enumerate(self.points):
            distance = landscape.distance_to_minimum(point)
            if distance is not None and distance <= tol:
                return t
        return None

    def summary(self, landscape, tol):
        final = self.points[-1]
        return {
            "label": self.label, "optimizer": self.spec.optimizer_name,
            "hparams": {**self.spec.defaults(), **self.spec.hparams},
            "schedule": self.spec.schedule, "schedule_hparams": self.spec.schedule_hparams,
            "clip_norm": self.spec.clip_norm, "lr_source": self.spec.lr_source,
            "steps": self.steps, "evaluations": self.evaluations,
            "final_point": list(final), "final_loss": self.losses[-1],
            "distance_to_minimum": landscape.distance_to_minimum(final) if _is_finite_point(final) else None,
            "tolerance": tol, "steps_to_tolerance": self.steps_to(landscape, tol),
            "left_frame_at": self.left_frame_at, "diverged": self.diverged,
        }


def _is_finite_point(point):
    return all(math.isfinite(v) for v in point)


def run_one(landscape, spec, start, steps):
    """Step ``spec``'s optimizer ``steps`` times from ``start``; a ``Trajectory``."""
    start = landscape.check_start(start)
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = spec.create([p])
    schedule = schedules.create(spec.schedule, optimizer, **spec.schedule_hparams) if spec.schedule else None
    path = Trajectory(spec, [start], [float(landscape.loss(p.detach()))])

    def closure():
        optimizer.zero_grad()
        loss = landscape.loss(p)
        loss.backward()
        if spec.clip_norm:
            clipping.clip_grad_norm([p], spec.clip_norm)
        path.evaluations += 1
        return loss

    for _ in range(steps):
        path.lrs.append(optimizer.param_groups[0].get("lr"))
        optimizer.step(closure)
        point = tuple(float(v) for v in p.detach())
        loss = float(landscape.loss(p.detach()))
        path.points.append(point)
        path.losses.append(loss)
        if not (_is_finite_point(point) and math.isfinite(loss)):
            path.diverged = True
            break
        if not landscape.contains(point):
            path.left_frame_at = path.steps
            path.diverged = loss > path.losses[0]
            break
        if schedule is not None and schedules.info(spec.schedule).cls is schedules.Plateau:
            schedule.step(loss)              # plateau watches a loss: here the current one
        elif schedule is not None:
            schedule.step()
    return path


def run(landscape, specs, start=None, steps=100):
    """One ``Trajectory`` per spec, all from ``start`` (default: the landscape's)."""
    start = landscape.start if start is None else start
    landscape.check_start(start)
    with one_thread():
        return [run_one(landscape, spec, start, steps) for spec in specs]


def specs_from(names, lrs=None, landscape=None):
    """Specs for registry ``names``: the learning rate from ``lrs`` ({name: lr}), else the
    ``landscape``'s default for the optimizer's family, else the registry's; each spec
    records which (``lr_source``)."""
    lrs = dict(lrs or {})
    for name in names:
        optimizers.info(name)           # an unknown name fails here, before any work
    stray = sorted(set(lrs) - set(names))
    if stray:
        raise ValueError(f"--lr given for {', '.join(stray)}, which is not among the optimizers "
                         f"({', '.join(names)})")
    specs = []
    for name in names:
        default = landscape.default_lr(name) if landscape is not None else None
        if name in lrs:
            specs.append(Spec(name, {"lr": lrs[name]}, lr_source="--lr"))
        elif default is not None:
            family = optimizers.FAMILIES[optimizers.info(name).family]
            specs.append(Spec(name, {"lr": default}, lr_source=f"{landscape.name}'s default for the {family}"))
        else:
            specs.append(Spec(name, lr_source="registry default"))
    return specs


def summary(landscape, paths, start, tol):
    return {"landscape": landscape.name, "formula": landscape.formula,
            "minima": [list(m) for m in landscape.minima], "minimum_value": landscape.minimum_value,
            "start": list(start), "paths": [p.summary(landscape, tol) for p in paths]}


def write(out, landscape, paths, tol=1e-3, gif=True):
    """trajectories.png, .gif and .json in ``out``; returns the JSON dict."""
    from descentlab.labs import plots

    out = pathlib.Path(out)
    start = paths[0].points[0]
    result = summary(landscape, paths, start, tol)
    title = f"{len(paths)} optimizers on {landscape.name} from ({start[0]:g}, {start[1]:g})"
    plots.paths_figure(out / "trajectories.png", landscape, paths, title)
    if gif:
        plots.animate(out / "trajectories.gif", landscape, paths, title)
    io.write_json(out / "trajectories.json", result)
    return result
