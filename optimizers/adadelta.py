"""Adadelta: ``Adadelta.update`` is the formula, ``update_group`` the same step
with ``torch._foreach_*`` ops."""

import torch

from .base import LectureOptimizer, count_step, count_steps, new_step_counter, zeros


class Adadelta(LectureOptimizer):
    """Adadelta (Zeiler 2012): AdaGrad with a window, and a step in the units of w.

    Update (lecture 000 slide 30; lecture 001 "AdaDelta's units argument")::

        E[g^2]_t  = rho * E[g^2]_{t-1} + (1 - rho) * g_t^2
        dx_t      = sqrt(E[dx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) * g_t
        E[dx^2]_t = rho * E[dx^2]_{t-1} + (1 - rho) * dx_t^2
        w_{t+1}   = w_t - lr * dx_t

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1.0): the factor on dx_t (Zeiler's rule has none: 1)
        rho (float, default 0.9): the decay of both moving averages
        eps (float, default 1e-6): inside both square roots
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        foreach, capturable, maximize, differentiable: torch.optim's options,
            defaults None, False, False, False (``LectureOptimizer``)

    Versus torch.optim.Adadelta: the same arguments, numbers and state keys
    (``step``, ``square_avg``, ``acc_delta``); like torch we add the ``lr``
    factor that Zeiler's rule does not have.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, capturable=capturable, maximize=maximize,
                                      differentiable=differentiable))

    def init_state(self, param, group):
        return {
            "step": new_step_counter(param),
            "square_avg": zeros(param),
            "acc_delta": zeros(param),
        }

    def update(self, param, grad, state, group):
        count_step(state)
        rho, eps = group["rho"], group["eps"]
        Eg2, Edx2 = state["square_avg"], state["acc_delta"]
        Eg2.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        dx = (Edx2 + eps).sqrt() / (Eg2 + eps).sqrt() * grad
        Edx2.mul_(rho).addcmul_(dx, dx, value=1 - rho)
        param.add_(dx, alpha=-group["lr"])

    def update_group(self, params, grads, states, group):
        count_steps(states)
        rho, eps = group["rho"], group["eps"]
        Eg2s, Edx2s = [state["square_avg"] for state in states], [state["acc_delta"] for state in states]
        torch._foreach_mul_(Eg2s, rho)
        torch._foreach_addcmul_(Eg2s, grads, grads, 1 - rho)
        rms_g = torch._foreach_add(Eg2s, eps)
        torch._foreach_sqrt_(rms_g)
        dxs = torch._foreach_add(Edx2s, eps)
        torch._foreach_sqrt_(dxs)
        torch._foreach_div_(dxs, rms_g)
        torch._foreach_mul_(dxs, grads)
        torch._foreach_mul_(Edx2s, rho)
        torch._foreach_addcmul_(Edx2s, dxs, dxs, 1 - rho)
        torch._foreach_add_(params, dxs, alpha=-group["lr"])
