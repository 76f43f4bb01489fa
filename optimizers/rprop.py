"""Rprop: ``Rprop.update`` is the formula, ``update_group`` the same step with
``torch._foreach_*`` ops and one temporary per tensor, sign(g_t)."""

import torch

from .base import LectureOptimizer, check, check_pair, count_step, count_steps, new_step_counter, zeros


class Rprop(LectureOptimizer):
    """Rprop, resilient backpropagation (Riedmiller & Braun 1993).

    Lecture 000 slide 31: each weight has its own step size, grown while the
    gradient keeps its sign and shrunk when it flips::

        s = sign(g_t * g_{t-1})
        delta_t = clamp(delta_{t-1} * (eta+ if s > 0, eta- if s < 0, 1 if s = 0),
                        step_min, step_max)
        if s < 0: g_t <- 0        (no move after a sign flip; remembered as 0)
        w_{t+1} = w_t - sign(g_t) * delta_t

    delta_0 = lr, g_0 = 0. Rprop is a full-batch method; with noisy mini-batch
    gradients it loses its footing.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-2): delta_0, every weight's first step size
        etas ((float, float), default (0.5, 1.2)): (eta-, eta+), 0 < eta- < 1 < eta+
        step_sizes ((float, float), default (1e-6, 50)): (step_min, step_max)
        capturable, foreach, maximize, differentiable: torch.optim's options,
            defaults False, None, False, False (``LectureOptimizer``)

    Versus torch.optim.Rprop: this is its Rprop- variant, with the same
    arguments, numbers and state keys (``step``, ``prev``, ``step_size``); we
    refuse step_sizes with min > max.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_pair("etas", etas, lambda v: v > 0, "> 0")
        check("etas", etas, etas[0] < 1 < etas[1], "(eta-, eta+) with 0 < eta- < 1 < eta+")
        check_pair("step_sizes", step_sizes, lambda v: v >= 0, ">= 0")
        check("step_sizes", step_sizes, step_sizes[0] <= step_sizes[1], "(min, max) with min <= max")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, capturable=capturable,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def init_state(self, param, group):
        return {
            "step": new_step_counter(param),
            "prev": zeros(param),
            "step_size": torch.full_like(param, group["lr"], memory_format=torch.preserve_format),
        }

    def update(self, param, grad, state, group):
        count_step(state)
        eta_minus, eta_plus = group["etas"]
        prev, delta = state["prev"], state["step_size"]
        s = grad.mul(prev).sign()
        factor = torch.ones_like(s)
        factor[s > 0] = eta_plus
        factor[s < 0] = eta_minus
        delta.mul_(factor).clamp_(*group["step_sizes"])
        grad = grad.masked_fill(s < 0, 0)
        param.addcmul_(grad.sign(), delta, value=-1)
        prev.copy_(grad)

    def update_group(self, params, grads, states, group):
        count_steps(states)
        eta_minus, eta_plus = group["etas"]
        prevs, deltas = [state["prev"] for state in states], [state["step_size"] for state in states]
        # prev is rewritten below anyway, so it first holds sign(g_t * g_{t-1}),
        # then the step factor: the only temporaries are masks (bytes, one at a time).
        torch._foreach_mul_(prevs, grads)
        torch._foreach_sign_(prevs)
        for factor in prevs:
            factor.masked_fill_(factor > 0, eta_plus).masked_fill_(factor < 0, eta_minus)
            factor.masked_fill_(factor == 0, 1)
        torch._foreach_mul_(deltas, prevs)
        torch._foreach_clamp_min_(deltas, group["step_sizes"][0])
        torch._foreach_clamp_max_(deltas, group["step_sizes"][1])
        for prev, grad in zip(prevs, grads):
            flipped = prev == eta_minus
            prev.copy_(grad).masked_fill_(flipped, 0)          # g_t, zeroed after a sign flip
        del flipped  # the last mask must not outlive the loop: signs below is the one temporary
        signs = torch._foreach_sign(prevs)
        torch._foreach_addcmul_(params, signs, deltas, value=-1)
