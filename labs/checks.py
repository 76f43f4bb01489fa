"""The lab exercises, their checks, and how a check runs an implementation.

An exercise names the symbol its file defines (a class or a function), our
implementation that is the instructor's solution (``descentlab.optimizers``,
``.schedules``, ``.clipping``), its checks and its known mistakes
(``descentlab.labs.mistakes``). A check is a fixed or seeded input, several
steps long so that state handling counts; ``run(exercise, impl, check)``
applies any implementation of the exercise to it, in float64, and returns the
numbers to compare as one flat list:

* optimizers: the parameters' displacement w_t - w_0 after every step (the
  gradients are written into the same ``.grad`` tensors each step, as
  ``backward()`` does after ``zero_grad(set_to_none=False)``);
* the schedule: every param group's learning rate at every epoch;
* clipping: the norm it returns, then every clipped gradient.

The same code runs in the grader's process (our implementations and the
mistakes) and in the sandbox (the student's), so both see identical inputs.
"""

import dataclasses

import torch

from descentlab import optimizers
from descentlab.optimizers import clipping, schedules

from . import mistakes


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    hparams: dict = dataclasses.field(default_factory=dict)
    steps: int = 5
    seed: int = 0
    scale: float = 1.0       # of the random gradients
    fixed: tuple = None      # hand-picked input, read by the exercise's runner


@dataclasses.dataclass(frozen=True)
class Exercise:
    name: str                # the file name without .py, and the EXERCISE of ``lab check``
    title: str
    symbol: str              # the class or function the student's file defines
    kind: str                # "optimizer", "schedule" or "clipping"
    reference: object
    checks: tuple
    mistakes: tuple
    tolerance: float = 1e-10  # on the relative error (float64 throughout)


def _random(generator, shape, scale=1.0):
    return torch.randn(shape, generator=generator, dtype=torch.float64) * scale


def _optimizer_inputs(check):
    """(initial parameters, gradients of every step): one hand-picked step, or a
    vector and a 2x3 matrix with seeded gradients whose first coordinate is a
    sparse feature (zero gradient every other step)."""
    if check.fixed:
        w0, g = check.fixed
        return [torch.tensor(w0, dtype=torch.float64)], [[torch.tensor(g, dtype=torch.float64)]]
    generator = torch.Generator().manual_seed(check.seed)
    params = [_random(generator, (3,)), _random(generator, (2, 3))]
    steps = []
    for t in range(check.steps):
        grads = [_random(generator, p.shape, check.scale) for p in params]
        if t % 2:
            grads[0][0] = 0.0
        steps.append(grads)
    return params, steps


def run_optimizer(impl, check):
    initial, steps = _optimizer_inputs(check)
    params = [w.clone().requires_grad_(True) for w in initial]
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer = impl(params, **check.hparams)
    out = []
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad.copy_(g)
        optimizer.step()
        out.extend(float(x) for p, w0 in zip(params, initial) for x in (p.detach() - w0).flatten())
    return out


def run_schedule(impl, check):
    """Two param groups (lr 0.1 and 0.02) under the schedule, one step() per epoch."""
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)]
    optimizer = torch.optim.SGD(groups)
    schedule = impl(optimizer, **check.hparams)
    out = []
    for _ in range(check.steps):
        out.extend(float(group["lr"]) for group in optimizer.param_groups)
        optimizer.step()   # no gradients, so no change: only keeps torch's call-order check quiet
        schedule.step()
    return out


def _clipping_inputs(check):
    if check.fixed:
        return [None if g is None else torch.tensor(g, dtype=torch.float64) for g in check.fixed]
    generator = torch.Generator().manual_seed(check.seed)
    return [_random(generator, shape, check.scale) for shape in ((4,), (3, 2), (5,))]


def run_clipping(impl, check):
    params = []
    for g in _clipping_inputs(check):
        p = torch.zeros(g.shape if g is not None else (2,), dtype=torch.float64, requires_grad=True)
        p.grad = g
        params.append(p)
    norm = impl(params, **check.hparams)
    if not isinstance(norm, (float, int, torch.Tensor)) or isinstance(norm, bool):
        raise TypeError(f"clip_grad_norm returned {norm!r}: return the norm before clipping, a float")
    return [float(norm)] + [float(x) for p in params if p.grad is not None for x in p.grad.flatten()]


RUNNERS = {"optimizer": run_optimizer, "schedule": run_schedule, "clipping": run_clipping}


def run(exercise, impl, check):
    """The numbers ``impl`` produces on ``check``, in float64."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return RUNNERS[exercise.kind](impl, check)
    finally:
        torch.set_default_dtype(previous)


def _optimizer_checks(other_hparams):
    return (
        Check("one step from a hand-picked point", steps=1,
              fixed=([1.0, -2.0, 0.5], [0.1, -0.3, 2.0])),
        Check("5 steps, seeded random gradients, a vector and a matrix", seed=1),
        Check(f"5 steps, {', '.join(f'{k}={v}' for k, v in other_hparams.items())}",
              hparams=other_hparams, seed=2),
        Check("5 steps, tiny gradients (1e-4)", seed=3, scale=1e-4),
    )


def _exercise(name, title, symbol, reference, other_hparams, known):
    return Exercise(name, title, symbol, "optimizer", reference, _optimizer_checks(other_hparams), known)


EXERCISES = {exercise.name: exercise for exercise in (
    _exercise("momentum", "gradient descent with momentum", "Momentum", optimizers.Momentum,
              dict(lr=0.05, momentum=0.5), mistakes.MOMENTUM),
    _exercise("nesterov", "Nesterov accelerated gradient", "Nesterov", optimizers.Nesterov,
              dict(lr=0.05, momentum=0.5), mistakes.NESTEROV),
    _exercise("adagrad", "Adagrad", "Adagrad", optimizers.Adagrad,
              dict(lr=0.5, eps=1e-3), mistakes.ADAGRAD),
    _exercise("rmsprop", "RMSProp", "RMSprop", optimizers.RMSprop,
              dict(lr=0.05, alpha=0.8, eps=1e-3), mistakes.RMSPROP),
    _exercise("adam", "Adam with bias correction", "Adam", optimizers.Adam,
              dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3), mistakes.ADAM),
    _exercise("diffgrad", "diffGrad", "DiffGrad", optimizers.DiffGrad,
              dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3), mistakes.DIFFGRAD),
    Exercise("step_decay", "step decay of the learning rate", "StepDecay", "schedule",
             schedules.StepDecay, (
                 Check("12 epochs, the defaults (K=5, gamma=0.5)", steps=12),
                 Check("10 epochs, K=3, gamma=0.1", dict(step_size=3, gamma=0.1), steps=10),
                 Check("4 epochs, K=1, gamma=0.9", dict(step_size=1, gamma=0.9), steps=4),
             ), mistakes.STEP_DECAY),
    # The 1e-6 of torch's formula moves a clipped gradient by ~1e-6 / norm: a
    # student who leaves it out has understood clipping, so it is tolerated.
    Exercise("clip_grad_norm", "gradient clipping by the global norm", "clip_grad_norm", "clipping",
             clipping.clip_grad_norm, (
                 Check("norm 13 above max_norm 1: rescaled", dict(max_norm=1.0),
                       fixed=([3.0, 4.0], [[0.0, 12.0]])),
                 Check("norm 0.5 below max_norm 1: left alone", dict(max_norm=1.0),
                       fixed=([0.3, 0.0], [[0.0, -0.4]])),
                 Check("three seeded random gradients, max_norm 2.5", dict(max_norm=2.5), seed=4),
                 Check("a parameter without a gradient is skipped", dict(max_norm=2.0),
                       fixed=([6.0, 8.0], None, [[0.0, 3.0]])),
             ), mistakes.CLIPPING, tolerance=1e-6),
)}


def exercise(name):
    """The exercise called ``name``; ``ValueError`` listing the exercises if there is none."""
    if name not in EXERCISES:
        raise optimizers.registry.unknown_name("exercise", name, EXERCISES)
    return EXERCISES[name]
