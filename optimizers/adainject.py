"""AdaInject (AdamInject): ``AdaInject.update`` is the formula, ``update_group``
the same step with ``torch._foreach_*`` ops."""

import torch

from .adaptive import denominator, folded_step_size, foreach_moments
from .base import LectureOptimizer, count_step, count_steps, new_step_counter, zeros

K = 2  # the injection's divisor, fixed in the authors' code


class AdaInject(LectureOptimizer):
    """AdaInject, in its AdamInject form (Dubey, Basha, Singh & Chaudhuri, IEEE TAI 2022).

    Lecture 004 ("Recent SGD based optimizers": AdaInject). The second moment
    is injected into the first, weighted by the last change of the parameter,
    to damp overshooting near a minimum (k = 2)::

        s_1 = g_1,   s_t = (g_t + (w_{t-1} - w_t) * g_t^2) / k    (t > 1)
        m_t = beta1 * m_{t-1} + (1 - beta1) * s_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        w_{t+1} = w_t - eta * sqrt(1 - beta2^t) / (1 - beta1^t) * m_t / (sqrt(v_t) + eps)

    We follow the authors' implementation ``CIFAR10/AdamInject.py`` of
    github.com/shivram1987/AdaInject: w_{t-1} is the parameter before the
    previous step (no injection at t = 1), the injection uses the gradient with
    its L2 decay term, and eps is added to sqrt(v_t) before the bias corrections
    are folded into the step size (as in their diffGrad). Their state also keeps
    a ``previous_grad`` that never enters the update; it is left out.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t (which averages s_t),
            beta2 of v_t
        eps (float, default 1e-8): added to sqrt(v_t), before the bias corrections
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        maximize, foreach: torch.optim's options, defaults False, None
            (``LectureOptimizer``)

    Versus torch.optim.Adam, the nearest (there is no torch.optim.AdaInject):
    m_t averages the injected s_t instead of g_t, and eps sits as in diffGrad.
    State keys: ``step``, ``exp_avg``, ``exp_avg_sq``, ``previous_data`` (the
    authors' names).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False, foreach=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach))

    def init_state(self, param, group):
        return {"step": new_step_counter(param), "exp_avg": zeros(param), "exp_avg_sq": zeros(param),
                "previous_data": zeros(param)}

    def update(self, param, grad, state, group):
        t = count_step(state)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        injected = grad
        if t > 1:
            injected = (grad + (state["previous_data"] - param) * grad * grad) / K
        m.lerp_(injected, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = denominator(v, group["eps"])
        state["previous_data"].copy_(param)
        step_size = folded_step_size(group["lr"], t, group["betas"])
        param.addcdiv_(m, denom, value=-step_size)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        previous = [state["previous_data"] for state in states]
        # previous_data is overwritten with w_t below, so it holds the injected
        # gradient (g + (w_{t-1} - w_t) * g^2) / K in between (t > 1).
        later = [i for i, t in enumerate(ts) if t > 1]
        injected = list(grads)
        if later:
            inject = [previous[i] for i in later]
            later_grads = [grads[i] for i in later]
            torch._foreach_sub_(inject, [params[i] for i in later])
            torch._foreach_mul_(inject, later_grads)
            torch._foreach_mul_(inject, later_grads)
            torch._foreach_add_(inject, later_grads)
            torch._foreach_div_(inject, K)
            for i in later:
                injected[i] = previous[i]
        ms, vs = foreach_moments(states, injected, grads, group["betas"])
        denom = torch._foreach_sqrt(vs)
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_copy_(previous, params)
        step_sizes = [-folded_step_size(group["lr"], t, group["betas"]) for t in ts]
        torch._foreach_addcdiv_(params, ms, denom, step_sizes)
