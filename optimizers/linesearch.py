"""Line search gradient descent: ``LineSearch.step`` tries the candidates,
``_armijo`` backtracks."""

import math

import torch

from .base import LectureOptimizer, check

METHODS = ("grid", "armijo")


def _check_lrs(lrs):
    ok = (isinstance(lrs, (tuple, list)) and len(lrs) > 0
          and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                  and math.isfinite(v) and v > 0 for v in lrs))
    check("lrs", lrs, ok, "a non-empty list of numbers > 0")


class LineSearch(LectureOptimizer):
    """Line search gradient descent (Khapra, CS7015 lecture 5, Module 5.8).

    Lecture 002, Module 5.8 ``do_line_search_gradient_descent``: compute the
    gradient once, try a step with every learning rate of a list, and keep the
    candidate with the lowest loss::

        g = grad L(w_t)
        w_{t+1} = argmin over eta in lrs of L(w_t - eta * g)

    As on the slide, the parameters move to the best candidate even when its
    loss is above L(w_t), ties keep the earlier learning rate, and a candidate
    whose loss is NaN is never taken (the slide's ``error < min_error`` test);
    if no candidate has a finite loss the parameters stay where they were.

    ``method="armijo"`` is backtracking instead of a grid: start from the largest
    of ``lrs`` and multiply eta by ``shrink`` until the step decreases the loss
    enough (Armijo's condition, Nocedal & Wright, Algorithm 3.1)::

        L(w_t - eta * g) <= L(w_t) - c * eta * ||g||^2

    at most ``max_backtracks`` times; if it never holds, the parameters do not
    move.

    ``step(closure)`` needs the closure (it re-evaluates the loss at each
    candidate, so it is called 1 + len(lrs) times in grid mode). The candidates
    need the loss only: a closure may carry ``closure.loss``, a function that
    returns the loss at the current parameters without computing gradients, and
    the candidates are then scored with it, one forward pass each instead of a
    forward and a backward pass (the training loop's closures do). Each param
    group may give its own ``lrs``; candidate k moves every group with its k-th
    learning rate, so the groups' lists must have the same length. After a step
    ``.grad`` holds what the last closure call left (with ``closure.loss``, the
    gradient at the starting point).

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lrs (tuple of float, default (0.1, 0.5, 1.0, 10.0)): the candidate learning
            rates (armijo: the largest is the first try)
        method (str, default "grid"): "grid" or "armijo"
        c (float, default 1e-4): Armijo's sufficient-decrease constant (armijo only)
        shrink (float, default 0.5): the factor on eta per backtrack (armijo only)
        max_backtracks (int, default 30): the most backtracks (armijo only)

    Versus torch.optim.LBFGS, the nearest (the one torch.optim class whose step
    needs a closure; there is no line-search gradient descent in torch.optim):
    no curvature, one gradient per step and a loss per candidate. There is no
    ``lr`` hyperparameter, so learning-rate schedules do not apply; no
    ``weight_decay`` or ``maximize`` either.
    """

    def __init__(self, params, lrs=(0.1, 0.5, 1.0, 10.0), method="grid", *, c=1e-4, shrink=0.5,
                 max_backtracks=30):
        _check_lrs(lrs)
        check("method", method, method in METHODS, " or ".join(map(repr, METHODS)))
        check("c", c, isinstance(c, (int, float)) and 0 < c < 1, "in (0, 1)")
        check("shrink", shrink, isinstance(shrink, (int, float)) and 0 < shrink < 1, "in (0, 1)")
        check("max_backtracks", max_backtracks,
              isinstance(max_backtracks, int) and not isinstance(max_backtracks, bool)
              and max_backtracks >= 0, "an integer >= 0")
        super().__init__(params, dict(lrs=tuple(lrs), method=method, c=c, shrink=shrink,
                                      max_backtracks=max_backtracks))

    @torch.no_grad()
    def step(self, closure=None):
        """Move to the best candidate along -grad; returns the loss before the step."""
        if closure is None:
            raise ValueError("LineSearch.step needs a closure that re-evaluates the loss "
                             "(and computes the gradients), e.g. opt.step(lambda: loss_fn(model))")
        with torch.enable_grad():
            loss = closure()
        start = [(p, p.detach().clone(), p.grad.detach().clone(), group)
                 for group in self.param_groups for p in group["params"] if p.grad is not None]
        if not start:
            return loss
        for group in self.param_groups:
            _check_lrs(group["lrs"])
            check("lrs", group["lrs"], len(group["lrs"]) == len(self.param_groups[0]["lrs"]),
                  "lists of the same length in every param group")

        forward_only = getattr(closure, "loss", None)

        def loss_at(eta):
            """Loss at w - eta(group) * g; non-finite losses count as +inf."""
            _move(start, eta)
            if forward_only is not None:
                value = _as_float(forward_only())
            else:
                with torch.enable_grad():
                    value = _as_float(closure())
            return value if math.isfinite(value) else math.inf

        options = self.param_groups[0]
        if options["method"] == "grid":
            candidates = [lambda group, k=k: group["lrs"][k] for k in range(len(options["lrs"]))]
            losses = [loss_at(eta) for eta in candidates]
            best = min(range(len(losses)), key=losses.__getitem__)   # first of equal losses
            _move(start, candidates[best] if math.isfinite(losses[best]) else None)
        else:
            _move(start, _armijo(start, _as_float(loss), loss_at, options))
        return loss


def _as_float(loss):
    return float(loss.detach() if torch.is_tensor(loss) else loss)


def _move(start, eta):
    """Set every parameter to w - eta(group) * g, or back to w when eta is None."""
    for p, w, g, group in start:
        p.copy_(w)
        if eta is not None:
            p.sub_(eta(group) * g)


def _armijo(start, loss0, loss_at, options):
    """The accepted step (group -> eta), or None when no step decreases the loss enough."""
    # sum over groups of eta * ||g||^2: the decrease the first-order model predicts at scale 1
    predicted = sum(max(group["lrs"]) * g.square().sum().item() for _, _, g, group in start)
    scale = 1.0
    for _ in range(options["max_backtracks"] + 1):
        eta = lambda group, s=scale: s * max(group["lrs"])  # noqa: E731
        if loss_at(eta) <= loss0 - options["c"] * scale * predicted:
            return eta
        scale *= options["shrink"]
    return None
