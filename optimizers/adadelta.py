"""Adadelta (Zeiler 2012).

Lecture 000 slide 30 and lecture 001 ("AdaDelta's units argument")::

    E[g^2]_t  = rho * E[g^2]_{t-1} + (1 - rho) * g_t^2
    dx_t      = sqrt(E[dx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) * g_t
    E[dx^2]_t = rho * E[dx^2]_{t-1} + (1 - rho) * dx_t^2
    w_{t+1}   = w_t - lr * dx_t

Zeiler's rule has no learning rate (lr = 1, the default); torch.optim.Adadelta
adds the ``lr`` factor, and so do we. Same arguments, numbers and state keys
(``step``, ``square_avg``, ``acc_delta``) as torch.optim.Adadelta.
"""

import torch

from .base import LectureOptimizer, count_step, new_step_counter


class Adadelta(LectureOptimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def init_state(self, param, group):
        return {
            "step": new_step_counter(param),
            "square_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
            "acc_delta": torch.zeros_like(param, memory_format=torch.preserve_format),
        }

    def update(self, param, grad, state, group):
        count_step(state)
        rho, eps = group["rho"], group["eps"]
        Eg2, Edx2 = state["square_avg"], state["acc_delta"]
        Eg2.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        dx = Edx2.add(eps).sqrt_().div_(Eg2.add(eps).sqrt_()).mul_(grad)
        Edx2.mul_(rho).addcmul_(dx, dx, value=1 - rho)
        param.add_(dx, alpha=-group["lr"])
