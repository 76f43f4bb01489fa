"""Nesterov accelerated gradient (NAG): ``Nesterov.update`` is the formula,
``update_group`` the same step with ``torch._foreach_*`` ops."""

import torch

from .base import LectureOptimizer, zeros


class Nesterov(LectureOptimizer):
    """Nesterov accelerated gradient (NAG).

    Lecture 002, Module 5.5, with the look-ahead written out::

        w_look  = w_t - mu * u_{t-1}
        u_t     = mu * u_{t-1} + eta * grad L(w_look)
        w_{t+1} = w_t - u_t

    Like torch.optim.SGD(nesterov=True) we store the reparametrised form that
    needs only the gradient at the current point (Sutskever et al. 2013)::

        v_t = mu * v_{t-1} + g_t,      w_{t+1} = w_t - eta * (g_t + mu * v_t)

    with v_0 = 0.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-2): the learning rate eta
        momentum (float, default 0.9): mu
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        maximize, foreach, differentiable: torch.optim's options, defaults False,
            None, False (``LectureOptimizer``)

    Versus torch.optim.SGD: the same numbers and state key (``momentum_buffer``)
    as torch.optim.SGD(momentum=mu, nesterov=True); momentum defaults to 0.9
    here (torch's SGD to 0, which refuses nesterov), and there is no dampening.
    """

    def __init__(self, params, lr=1e-2, momentum=0.9, weight_decay=0, *, maximize=False,
                 foreach=None, differentiable=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable))

    def init_state(self, param, group):
        return {"momentum_buffer": zeros(param)}

    def update(self, param, grad, state, group):
        v, mu = state["momentum_buffer"], group["momentum"]
        v.mul_(mu).add_(grad)
        param.add_(grad.add(v, alpha=mu), alpha=-group["lr"])

    def update_group(self, params, grads, states, group):
        vs, mu, lr = [state["momentum_buffer"] for state in states], group["momentum"], group["lr"]
        torch._foreach_mul_(vs, mu)
        torch._foreach_add_(vs, grads)
        # w -= eta * (g + mu * v) as two in-place adds: no temporary
        torch._foreach_add_(params, grads, alpha=-lr)
        torch._foreach_add_(params, vs, alpha=-lr * mu)
