"""The lab exercises: what each one is, our solution, its checks and its known mistakes.

An exercise names the symbol its file defines (a class or a function), our
implementation that is the instructor's solution (``descentlab.optimizers``,
``.schedules``, ``.clipping``), its checks (``descentlab.labs.runs`` runs
them), its hidden checks (more steps, other hyperparameters and seeds: the
Gradescope autograder runs them, ``lab check`` does not) and its known
mistakes (``descentlab.labs.mistakes``). Only the grader's own process
imports this module: it holds the answers.

A check passes when the relative error max|student - ours| / max|ours| is at
most its tolerance: the exercise's (1e-10 in float64), or, where larger, the
float64 rounding of the numbers the update combines. An optimizer's output
is the displacement w_t - w_0, but the update rounds w_t itself, |w| ~ 1,
once or twice a step: with tiny gradients any correct order of the
operations differs from ours by ~1e-16 |w| a step, which can be above 1e-10
of a displacement of 1e-6. ``tolerance(exercise, reference)`` allows
``ROUNDING`` machine epsilons per step of |w| for that, and nothing more.
"""

import dataclasses

from descentlab import optimizers
from descentlab.optimizers import clipping, schedules

from . import mistakes
from .runs import Check

# float64's machine epsilon, and how many of them a step's rounding of |w| may cost
# (two implementations, each rounding w once or twice a step, with a margin of two).
EPSILON = 2.0 ** -52
ROUNDING = 8 * EPSILON


@dataclasses.dataclass(frozen=True)
class Exercise:
    name: str                # the file name without .py, and the EXERCISE of ``lab check``
    title: str
    symbol: str              # the class or function the student's file defines
    kind: str                # "optimizer", "schedule" or "clipping" (``runs.RUNNERS``)
    reference: object
    checks: tuple
    hidden: tuple            # the autograder's extra checks
    mistakes: tuple
    tolerance: float = 1e-10  # on the relative error (float64 throughout)


def tolerance(exercise, reference):
    """The tolerance of one check, given our ``runs.Outcome`` on it."""
    largest = max((abs(v) for v in reference.values), default=0.0)
    rounding = ROUNDING * max(reference.scale, default=0.0) / largest if largest else 0.0
    return max(exercise.tolerance, rounding)


def _listed(hparams):
    return ", ".join(f"{k}={v}" for k, v in hparams.items())


def _optimizer_checks(other_hparams):
    return (
        Check("one step from a hand-picked point", steps=1,
              fixed=([1.0, -2.0, 0.5], [0.1, -0.3, 2.0])),
        Check("5 steps, seeded random gradients, a vector and a matrix", seed=1),
        Check(f"5 steps, {_listed(other_hparams)}", hparams=other_hparams, seed=2),
        Check("5 steps, tiny gradients (1e-4)", seed=3, scale=1e-4),
    )


def _hidden_optimizer_checks(hidden_hparams):
    return (
        Check("hidden: 25 steps, seed 11", steps=25, seed=11, hidden=True),
        Check(f"hidden: 12 steps, {_listed(hidden_hparams)}", hparams=hidden_hparams, steps=12, seed=12,
              hidden=True),
        Check("hidden: 12 steps, large gradients (1e3)", steps=12, seed=13, scale=1e3, hidden=True),
    )


def _exercise(name, title, symbol, reference, other_hparams, hidden_hparams, known):
    return Exercise(name, title, symbol, "optimizer", reference, _optimizer_checks(other_hparams),
                    _hidden_optimizer_checks(hidden_hparams), known)


EXERCISES = {exercise.name: exercise for exercise in (
    _exercise("momentum", "gradient descent with momentum", "Momentum", optimizers.Momentum,
              dict(lr=0.05, momentum=0.5), dict(lr=0.02, momentum=0.95), mistakes.MOMENTUM),
    _exercise("nesterov", "Nesterov accelerated gradient", "Nesterov", optimizers.Nesterov,
              dict(lr=0.05, momentum=0.5), dict(lr=0.02, momentum=0.95), mistakes.NESTEROV),
    _exercise("adagrad", "Adagrad", "Adagrad", optimizers.Adagrad,
              dict(lr=0.5, eps=1e-3), dict(lr=0.05, eps=1e-6), mistakes.ADAGRAD),
    _exercise("rmsprop", "RMSProp", "RMSprop", optimizers.RMSprop,
              dict(lr=0.05, alpha=0.8, eps=1e-3), dict(lr=0.01, alpha=0.95, eps=1e-6), mistakes.RMSPROP),
    _exercise("adam", "Adam with bias correction", "Adam", optimizers.Adam,
              dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3), dict(lr=0.003, betas=(0.95, 0.99), eps=1e-6),
              mistakes.ADAM),
    _exercise("diffgrad", "diffGrad", "DiffGrad", optimizers.DiffGrad,
              dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3), dict(lr=0.003, betas=(0.95, 0.99), eps=1e-6),
              mistakes.DIFFGRAD),
    Exercise("step_decay", "step decay of the learning rate", "StepDecay", "schedule",
             schedules.StepDecay, (
                 Check("12 epochs, the defaults (K=5, gamma=0.5)", steps=12),
                 Check("10 epochs, K=3, gamma=0.1", dict(step_size=3, gamma=0.1), steps=10),
                 Check("4 epochs, K=1, gamma=0.9", dict(step_size=1, gamma=0.9), steps=4),
             ), (
                 Check("hidden: 30 epochs, K=7, gamma=0.3", dict(step_size=7, gamma=0.3), steps=30, hidden=True),
                 Check("hidden: 20 epochs, K=4, gamma=0.25", dict(step_size=4, gamma=0.25), steps=20, hidden=True),
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
             ), (
                 Check("hidden: seeded gradients, max_norm 0.1", dict(max_norm=0.1), seed=14, hidden=True),
                 Check("hidden: large gradients (1e3), max_norm 5", dict(max_norm=5.0), seed=15, scale=1e3,
                       hidden=True),
                 Check("hidden: small gradients (1e-3), max_norm 1: left alone", dict(max_norm=1.0), seed=16,
                       scale=1e-3, hidden=True),
             ), mistakes.CLIPPING, tolerance=1e-6),
)}


def exercise(name):
    """The exercise called ``name``; ``ValueError`` listing the exercises if there is none."""
    if name not in EXERCISES:
        raise optimizers.registry.unknown_name("exercise", name, EXERCISES)
    return EXERCISES[name]
