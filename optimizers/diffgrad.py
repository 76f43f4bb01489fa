"""diffGrad: ``DiffGrad.update`` is the formula, ``update_group`` the same step
with ``torch._foreach_*`` ops."""

import torch

from .adaptive import denominator, folded_step_size, foreach_moments
from .base import LectureOptimizer, count_step, count_steps, new_step_counter, zeros


class DiffGrad(LectureOptimizer):
    """diffGrad (Dubey et al., IEEE TNNLS 2019): Adam whose step is scaled by a
    friction coefficient computed from the change of the gradient.

    Lecture 004 ("diffGrad Optimizer")::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        xi_t = AbsSig(g_{t-1} - g_t) = 1 / (1 + exp(-|g_{t-1} - g_t|))     (friction)
        w_{t+1} = w_t - eta * sqrt(1 - beta2^t) / (1 - beta1^t) * xi_t * m_t / (sqrt(v_t) + eps)

    A small change of the gradient (near a minimum) gives xi close to 1/2 and
    slows the step down; a large change gives xi close to 1. We follow the
    authors' fixed implementation ``diffGrad_v2.py`` of
    github.com/shivram1987/diffGrad: g_0 = 0 (so xi_1 = AbsSig(g_1)), the
    previous gradient is a copy (their first ``diffGrad.py`` aliased it to the
    current one, which made xi a constant 1/2), and the stored previous
    gradient includes the L2 decay term, as theirs does.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta, before the friction xi_t
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t, beta2 of v_t
        eps (float, default 1e-8): added to sqrt(v_t), before the bias corrections
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        maximize, foreach: torch.optim's options, defaults False, None
            (``LectureOptimizer``)

    Versus torch.optim.Adam, the nearest (there is no torch.optim.DiffGrad): the
    step is multiplied by xi_t, and eps is added to sqrt(v_t) before the bias
    corrections are folded into the step size, i.e. the lecture's
    sqrt(v^_t) + eps with eps scaled by 1 / sqrt(1 - beta2^t). State keys:
    ``step``, ``exp_avg``, ``exp_avg_sq``, ``previous_grad`` (the authors' names).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False, foreach=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach))

    def init_state(self, param, group):
        return {"step": new_step_counter(param), "exp_avg": zeros(param), "exp_avg_sq": zeros(param),
                "previous_grad": zeros(param)}

    def update(self, param, grad, state, group):
        t = count_step(state)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = denominator(v, group["eps"])
        friction = torch.sigmoid((state["previous_grad"] - grad).abs_())
        state["previous_grad"].copy_(grad)
        step_size = folded_step_size(group["lr"], t, group["betas"])
        param.addcdiv_(m * friction, denom, value=-step_size)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        ms, vs = foreach_moments(states, grads, grads, group["betas"])
        denom = torch._foreach_sqrt(vs)
        torch._foreach_add_(denom, group["eps"])
        # previous_grad is overwritten with g_t at the end, so it holds the
        # friction, then friction * m, in between: no second temporary.
        previous = [state["previous_grad"] for state in states]
        torch._foreach_sub_(previous, grads)
        torch._foreach_abs_(previous)
        torch._foreach_sigmoid_(previous)
        torch._foreach_mul_(previous, ms)
        step_sizes = [-folded_step_size(group["lr"], t, group["betas"]) for t in ts]
        torch._foreach_addcdiv_(params, previous, denom, step_sizes)
        torch._foreach_copy_(previous, grads)
