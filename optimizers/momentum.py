"""Momentum-based gradient descent, in its two lecture forms.

Classic form, ``ema=False`` (lecture 002, Module 5.3; Polyak's heavy ball)::

    v_t = mu * v_{t-1} + g_t,        w_{t+1} = w_t - eta * v_t

This is exactly torch.optim.SGD(momentum=mu) (dampening 0), state key
``momentum_buffer``.

Exponential-moving-average form, ``ema=True`` (lecture 000 slide 24
"Gradient Descent with Momentum"; lecture 001 "momentum as an exponential
average")::

    v_t = beta * v_{t-1} + (1 - beta) * g_t,   w_{t+1} = w_t - eta * v_t

Both start from v_0 = 0. The EMA form has no torch counterpart: its steps are
(1 - beta) times the classic ones at the same eta, so it wants a learning rate
about 1 / (1 - beta) larger.

``update_group`` (used unless ``foreach=False``) is the same step with
``torch._foreach_*`` ops over many tensors.
"""

import torch

from .base import LectureOptimizer, zeros


class Momentum(LectureOptimizer):
    def __init__(self, params, lr=1e-2, momentum=0.9, ema=False, weight_decay=0, *,
                 maximize=False, foreach=None, differentiable=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, ema=ema,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable))

    def init_state(self, param, group):
        return {"momentum_buffer": zeros(param)}

    def update(self, param, grad, state, group):
        v, mu = state["momentum_buffer"], group["momentum"]
        v.mul_(mu).add_(grad, alpha=(1 - mu) if group["ema"] else 1)
        param.add_(v, alpha=-group["lr"])

    def update_group(self, params, grads, states, group):
        vs, mu = [state["momentum_buffer"] for state in states], group["momentum"]
        torch._foreach_mul_(vs, mu)
        torch._foreach_add_(vs, grads, alpha=(1 - mu) if group["ema"] else 1)
        torch._foreach_add_(params, vs, alpha=-group["lr"])
