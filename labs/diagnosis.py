"""Say where and how a student's numbers part from ours, for every failed check.

``explain(kind, check, output, expected, tolerance, fresh=None)`` gives a
``Diagnosis``: where the numbers first part (the step, the parameter and its
element; the epoch and param group; the returned norm or a gradient's
element), expected against got there, and the pattern the whole run fits
when one does, tried in this order:

* NaN or inf appears (at which step);
* the parameters never move;
* the opposite sign (every step is -1 x ours);
* a constant factor (every step is c x ours);
* a factor that changes with the step (c_t: a bias correction's shape);
* the state is never updated (every step is what a new optimizer does with
  that gradient: ``fresh``, our reference rebuilt before each step);
* off by one step (late, or for a schedule one epoch early or late);
* for clipping: the norm right and the gradients not, or the reverse, or
  the gradients left unchanged;
* right for the first steps, wrong from step k on.

A pattern holds within ``PATTERN`` (relative): looser than the check's
tolerance, so that a mistake whose effect is nearly a constant factor (eps
small beside sqrt(v)) still reads as one.
"""

import dataclasses
import math

import numpy as np

from . import runs

PATTERN = 1e-6


@dataclasses.dataclass
class Diagnosis:
    where: str             # the first number that differs, expected and got
    pattern: str = None    # what the whole run looks like, when it fits one
    first: dict = None     # the first difference as data (JSON-safe)

    def lines(self):
        return [self.where] + ([self.pattern] if self.pattern else [])


def _number(x):
    return float(x) if math.isfinite(x) else str(float(x))


def _pair(expected, got):
    """Both numbers with as many digits as it takes to tell them apart."""
    for digits in range(6, 18):
        a, b = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if a != b:
            break
    return a, b


def _element(position):
    return f"[{', '.join(map(str, position.element))}]"


def _place(kind, position, shapes):
    if kind == "optimizer":
        shape = shapes[position.part]
        what = f"a vector of {shape[0]}" if len(shape) == 1 else f"a {'x'.join(map(str, shape))} matrix"
        return f"step {position.step}, parameter {position.part} ({what}), element {_element(position)}"
    if kind == "schedule":
        return f"epoch {position.step}, param group {position.part}"
    if position.part == "norm":
        return "the norm you return"
    return f"the gradient of parameter {position.part}, element {_element(position)}"


def _quantity(kind):
    if kind == "optimizer":
        return "w - w0 = "
    return "lr = " if kind == "schedule" else ""


def _close(a, b):
    """``a`` equals ``b`` within ``PATTERN`` of the larger of their magnitudes (NaN never)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    return bool(np.all(np.abs(a - b) <= PATTERN * scale))


def _factor(got, want):
    """The c that makes ``got`` = c * ``want``, or None when no c does (or c is 1)."""
    denominator = float(np.dot(want, want))
    if not denominator:
        return None
    c = float(np.dot(got, want)) / denominator
    return c if _close(got, c * want) and not _close(c, 1.0) else None


def _steps(kind, rows):
    """Per step what the optimizer did (displacement differences); a schedule's values as they are."""
    return np.diff(rows, axis=0, prepend=0.0) if kind == "optimizer" else rows


def _patterns(kind, check, got, want, fresh, first_step):
    """The first pattern the run fits (text), or None."""
    per = "step" if kind == "optimizer" else "learning rate" if kind == "schedule" else "number"
    if not np.all(np.isfinite(got)):
        i = int(np.argmin(np.isfinite(got.ravel())))
        position = runs.positions(kind, check)[i]
        what = "NaN" if math.isnan(got.ravel()[i]) else "inf"
        at = f" at step {position.step}" if kind == "optimizer" else (
            f" at epoch {position.step}" if kind == "schedule" else "")
        return f"{what} first appears{at}: look for a division by zero, or a square root of a negative number"
    if kind == "optimizer" and not np.any(got):
        return "the parameters never move: every step is 0"
    if _close(got, -want):
        return f"every {per} is -1 x ours: the opposite sign"
    c = _factor(got.ravel(), want.ravel())
    if c is not None:
        return f"every {per} is {c:.4g} x ours: off by a constant factor"
    if kind == "clipping":
        return _clipping_pattern(check, got.ravel(), want.ravel())
    steps_got, steps_want = _steps(kind, got), _steps(kind, want)
    if kind == "optimizer" and len(got) > 1:
        factors = [1.0 if _close(g, w) else _factor(g, w) for g, w in zip(steps_got, steps_want)]
        if all(f is not None for f in factors):
            shown = ", ".join(f"{f:.4g}" for f in factors[:5]) + (", ..." if len(factors) > 5 else "")
            return (f"each step is ours times a factor that changes with the step: {shown} "
                    f"(steps 1-{len(factors)})")
        if fresh is not None and _close(got, fresh):
            return ("every step is what a new optimizer would do with that gradient: the state is never "
                    "updated between steps (keep what the next step needs in state[...])")
        if not np.any(steps_got[0]) and _close(steps_got[1:], steps_want[:-1]):
            return "your step t is our step t - 1: one step late (the update uses the state of the step before)"
    if kind == "schedule" and len(got) > 1:
        if _close(got[:-1], want[1:]):
            return "your learning rate at epoch t is ours at epoch t + 1: one epoch early"
        if _close(got[1:], want[:-1]):
            return "your learning rate at epoch t is ours at epoch t - 1: one epoch late"
    if first_step > (1 if kind == "optimizer" else 0):
        if kind == "optimizer":
            right = "at step 1" if first_step == 2 else f"for steps 1-{first_step - 1}"
            return (f"right {right}, wrong from step {first_step} on: "
                    "look at what is kept in state from one step to the next")
        return f"right until epoch {first_step - 1}, wrong from epoch {first_step} on"
    return None


def _clipping_pattern(check, got, want):
    norm_right, grads_right = _close(got[:1], want[:1]), _close(got[1:], want[1:])
    if norm_right and not grads_right:
        original = [float(x) for g in runs.clipping_inputs(check) if g is not None for x in g.flatten()]
        if _close(got[1:], original):
            return "the norm is right, but the gradients were not changed: scale each p.grad in place"
        return "the norm you return is right; the clipped gradients are not"
    if grads_right and not norm_right:
        return "the clipped gradients are right; the norm you return is not (the norm before clipping)"
    return None


def explain(kind, check, output, expected, tolerance, fresh=None):
    """The ``Diagnosis`` of a failed check: ``output`` the student's numbers,
    ``expected`` and ``fresh`` ours (``runs.run`` values), ``tolerance`` relative."""
    got, want = np.asarray(output, float), np.asarray(expected, float)
    if got.shape != want.shape:
        return Diagnosis(f"{got.size} numbers where ours are {want.size}",
                         first={"numbers": int(got.size), "expected_numbers": int(want.size)})
    positions = runs.positions(kind, check)
    limit = tolerance * max(float(np.max(np.abs(want), initial=0.0)), 1e-300)
    bad = ~(np.abs(got - want) <= limit)
    i = int(np.argmax(bad))
    position = positions[i]
    shapes = ([tuple(w.shape) for w in runs.optimizer_inputs(check)[0]] if kind == "optimizer" else None)
    a, b = _pair(want[i], got[i])
    quantity = _quantity(kind)
    where = f"first differs at {_place(kind, position, shapes)}: expected {quantity}{a}, got {b}"
    first = {"step": position.step, "part": position.part, "element": list(position.element),
             "expected": _number(want[i]), "got": _number(got[i])}
    width = len(got) // max(check.steps, 1) if kind != "clipping" else len(got)
    rows = (got.reshape(-1, width), want.reshape(-1, width),
            None if fresh is None else np.asarray(fresh, float).reshape(-1, width))
    pattern = _patterns(kind, check, *rows, first_step=position.step if kind != "clipping" else 0)
    return Diagnosis(where, pattern, first)
