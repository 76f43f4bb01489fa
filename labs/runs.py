"""How a check runs an implementation of an exercise, and what it reports back.

A check is a fixed or seeded input, several steps long so that state handling
counts; ``run(kind, impl, check)`` applies any implementation (the student's,
our reference, a known mistake) to it in float64 and returns the numbers to
compare, one flat list, with where each number comes from (``positions``):

* optimizers: the parameters' displacement w_t - w_0 after every step (the
  gradients are written into the same ``.grad`` tensors each step, as
  ``backward()`` does after ``zero_grad(set_to_none=False)``);
* the schedule: every param group's learning rate at every epoch;
* clipping: the norm it returns, then every clipped gradient.

This module imports no reference implementation: the sandbox, which runs the
student's code, imports it (``descentlab.labs.isolation``), while the
references and the mistakes run in the grader's process on the same inputs.
"""

import dataclasses
import inspect
import itertools
import traceback
from pathlib import Path

import torch


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    hparams: dict = dataclasses.field(default_factory=dict)
    steps: int = 5
    seed: int = 0
    scale: float = 1.0       # of the random gradients
    fixed: tuple = None      # hand-picked input, read by the exercise's runner
    hidden: bool = False     # run by the autograder only, not by ``lab check``

    def as_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        """The check ``as_dict`` (then JSON) gave; lists of hyperparameters become tuples (``betas``)."""
        hparams = {k: tuple(v) if isinstance(v, list) else v for k, v in data.get("hparams", {}).items()}
        return cls(**{**data, "hparams": hparams})


@dataclasses.dataclass
class Outcome:
    values: list   # the numbers to compare
    scale: list    # per number, the magnitude its float64 rounding is relative to


@dataclasses.dataclass(frozen=True)
class Position:
    """Where one number of a run comes from."""
    step: object      # the step (1, 2, ...), the epoch (0, 1, ...), or None (clipping)
    part: object      # the parameter or param group index; "norm" for clipping's returned norm
    element: tuple    # the element's index in that parameter; () for a scalar


def _random(generator, shape, scale=1.0):
    return torch.randn(shape, generator=generator, dtype=torch.float64) * scale


def optimizer_inputs(check):
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


def run_optimizer(impl, check, fresh=False):
    """``fresh``: a new optimizer for every step (what an update that never keeps
    its state would do)."""
    initial, steps = optimizer_inputs(check)
    params = [w.clone().requires_grad_(True) for w in initial]
    for p in params:
        p.grad = torch.zeros_like(p)
    largest = [w.abs() for w in initial]
    optimizer = None
    values, scale = [], []
    for t, grads in enumerate(steps, 1):
        for p, g in zip(params, grads):
            p.grad.copy_(g)
        if optimizer is None or fresh:
            optimizer = impl(params, **check.hparams)
        optimizer.step()
        for p, w0, big in zip(params, initial, largest):
            w = p.detach()
            torch.maximum(big, w.abs(), out=big)
            values.extend(float(x) for x in (w - w0).flatten())
            # w_t is rounded once or twice per step: t steps, relative to |w|
            scale.extend(float(t * x) for x in big.flatten())
    return Outcome(values, scale)


class _LearningRates(torch.optim.Optimizer):
    """The optimizer under the schedule check: param groups with a learning rate, and a step that does nothing."""

    def __init__(self, groups):
        super().__init__(groups, {})

    def step(self, closure=None):
        return None


def run_schedule(impl, check):
    """Two param groups (lr 0.1 and 0.02) under the schedule, one step() per epoch."""
    optimizer = _LearningRates([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)])
    schedule = impl(optimizer, **check.hparams)
    values = []
    for _ in range(check.steps):
        values.extend(float(group["lr"]) for group in optimizer.param_groups)
        optimizer.step()   # keeps torch's check of the call order quiet
        schedule.step()
    return Outcome(values, [abs(v) for v in values])


def clipping_inputs(check):
    if check.fixed:
        return [None if g is None else torch.tensor(g, dtype=torch.float64) for g in check.fixed]
    generator = torch.Generator().manual_seed(check.seed)
    return [_random(generator, shape, check.scale) for shape in ((4,), (3, 2), (5,))]


def run_clipping(impl, check):
    params = []
    for g in clipping_inputs(check):
        p = torch.zeros(g.shape if g is not None else (2,), dtype=torch.float64, requires_grad=True)
        p.grad = g
        params.append(p)
    norm = impl(params, **check.hparams)
    if not isinstance(norm, (float, int, torch.Tensor)) or isinstance(norm, bool):
        raise TypeError(f"clip_grad_norm returned {norm!r}: return the norm before clipping, a float")
    values = [float(norm)] + [float(x) for p in params if p.grad is not None for x in p.grad.flatten()]
    return Outcome(values, [abs(v) for v in values])


RUNNERS = {"optimizer": run_optimizer, "schedule": run_schedule, "clipping": run_clipping}


def run(kind, impl, check, fresh=False):
    """The ``Outcome`` of ``impl`` on ``check``, in float64 (``fresh``: optimizers only)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return run_optimizer(impl, check, fresh=True) if fresh else RUNNERS[kind](impl, check)
    finally:
        torch.set_default_dtype(previous)


def positions(kind, check):
    """The ``Position`` of every number ``run(kind, ..., check)`` returns, in order."""
    def elements(shape):
        return list(itertools.product(*map(range, shape)))

    if kind == "optimizer":
        initial, steps = optimizer_inputs(check)
        return [Position(t, p, e) for t in range(1, len(steps) + 1)
                for p, w in enumerate(initial) for e in elements(w.shape)]
    if kind == "schedule":
        return [Position(epoch, group, ()) for epoch in range(check.steps) for group in range(2)]
    grads = clipping_inputs(check)
    return [Position(None, "norm", ())] + [Position(None, p, e) for p, g in enumerate(grads)
                                           if g is not None for e in elements(g.shape)]


def skip_dynamo():
    """Let the optimizer and scheduler methods torch wraps in
    ``torch._disable_dynamo`` run as they are, without importing torch._dynamo
    on their first call (3 s on a 2-core machine). Only for a process that
    compiles nothing, which this changes for good: the sandbox, the
    autograder. The attribute is the cache torch's wrapper reads
    (torch/_compile.py)."""
    import torch
    import torch._compile
    import torch.optim.lr_scheduler

    wrapper = torch._compile._disable_dynamo(lambda: None).__code__
    for cls in (torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler):
        for name in dir(cls):
            method = inspect.getattr_static(cls, name)
            if inspect.isfunction(method) and method.__code__ is wrapper:
                method.__wrapped__.__dynamo_disable = method.__wrapped__


# ---------------------------------------------------------------- the student's errors

def _where(exc, filename):
    """The line of ``filename`` that raised ``exc``: its number, code and function."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == Path(filename):
        return {"line": exc.lineno, "code": (exc.text or "").strip(), "function": None}
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == Path(filename)]
    if not frames:
        return {"line": None, "code": None, "function": None}
    frame = frames[-1]
    return {"line": frame.lineno, "code": frame.line, "function": frame.name}


def describe(exc, filename):
    """An exception of the student's code as a dict: its type, message and the student's line."""
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return {"type": type(exc).__name__, "message": message, **_where(exc, filename)}


def run_checks(kind, impl, checks, filename):
    """Every check on ``impl``: ``{"output": numbers}`` or ``{"error": describe(...)}`` each."""
    results = []
    for check in checks:
        try:
            results.append({"output": run(kind, impl, check).values})
        except (Exception, SystemExit) as exc:
            results.append({"error": describe(exc, filename)})
    return results
