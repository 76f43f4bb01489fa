"""RMSProp: ``RMSprop.update`` is the formula, ``update_group`` the same step
with ``torch._foreach_*`` ops."""

import torch

from .adaptive import denominator, foreach_denominator
from .base import LectureOptimizer, count_step, count_steps, new_step_counter, zeros


class RMSprop(LectureOptimizer):
    """RMSProp (Hinton, Coursera lecture 6e): the learning rate divided by a
    moving average of squared gradients.

    Update (lecture 000 slide 32; lecture 002, Module 5.9, the CS7015 RMSProp
    code)::

        v_t     = alpha * v_{t-1} + (1 - alpha) * g_t^2
        w_{t+1} = w_t - eta * g_t / (sqrt(v_t) + eps)              (eps_in_sqrt=False)
        w_{t+1} = w_t - eta * g_t / sqrt(v_t + eps)                (eps_in_sqrt=True)

    ``centered=True`` divides by the variance estimate sqrt(v_t - m_t^2), with
    m_t = alpha * m_{t-1} + (1 - alpha) * g_t (Graves 2013); ``momentum`` mu > 0
    accumulates b_t = mu * b_{t-1} + g_t / denom and steps w -= eta * b_t.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-2): the learning rate eta
        alpha (float, default 0.99): the decay of v_t (the lecture's gamma or beta, 0.9)
        eps (float, default 1e-8): added to sqrt(v_t), or inside the root
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        momentum (float, default 0): mu of the buffer b_t; 0: none
        centered (bool, default False): divide by sqrt(v_t - m_t^2)
        eps_in_sqrt (bool, default False): eps inside the square root (the CS7015 code)
        capturable, foreach, maximize, differentiable: torch.optim's options,
            defaults False, None, False, False (``LectureOptimizer``)

    Versus torch.optim.RMSprop: the default is torch's (alpha 0.99, not the
    lecture's 0.9, so that the class is a drop-in): the same arguments, numbers
    and state keys (``step``, ``square_avg``, ``momentum_buffer``, ``grad_avg``);
    ``eps_in_sqrt`` is ours.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False, *, eps_in_sqrt=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, capturable=capturable,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, eps_in_sqrt=eps_in_sqrt))

    def init_state(self, param, group):
        state = {"step": new_step_counter(param), "square_avg": zeros(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros(param)
        if group["centered"]:
            state["grad_avg"] = zeros(param)
        return state

    def update(self, param, grad, state, group):
        count_step(state)
        alpha, eps = group["alpha"], group["eps"]
        v = state["square_avg"]
        v.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            m = state["grad_avg"]
            m.lerp_(grad, 1 - alpha)
            variance = v.addcmul(m, m, value=-1)
        else:
            variance = v
        denom = denominator(variance, eps, group["eps_in_sqrt"])
        if group["momentum"] > 0:
            b = state["momentum_buffer"]
            b.mul_(group["momentum"]).addcdiv_(grad, denom)
            param.add_(b, alpha=-group["lr"])
        else:
            param.addcdiv_(grad, denom, value=-group["lr"])

    def update_group(self, params, grads, states, group):
        count_steps(states)
        alpha, eps = group["alpha"], group["eps"]
        vs = [state["square_avg"] for state in states]
        torch._foreach_mul_(vs, alpha)
        torch._foreach_addcmul_(vs, grads, grads, 1 - alpha)
        if group["centered"]:
            ms = [state["grad_avg"] for state in states]
            torch._foreach_lerp_(ms, grads, 1 - alpha)
            variance = torch._foreach_addcmul(vs, ms, ms, value=-1)
            denom = foreach_denominator(variance, eps, group["eps_in_sqrt"], in_place=True)
        else:
            denom = foreach_denominator(vs, eps, group["eps_in_sqrt"])
        if group["momentum"] > 0:
            bs = [state["momentum_buffer"] for state in states]
            torch._foreach_mul_(bs, group["momentum"])
            torch._foreach_addcdiv_(bs, grads, denom)
            torch._foreach_add_(params, bs, alpha=-group["lr"])
        else:
            torch._foreach_addcdiv_(params, grads, denom, -group["lr"])
