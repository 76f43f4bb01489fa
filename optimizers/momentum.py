"""Momentum-based gradient descent in its two lecture forms: ``Momentum.update``
is the formula, ``update_group`` the same step with ``torch._foreach_*`` ops."""

import torch

from .base import LectureOptimizer, zeros


class Momentum(LectureOptimizer):
    """Momentum-based gradient descent, in its two lecture forms.

    Classic form, ``ema=False`` (lecture 002, Module 5.4; Polyak's heavy ball)::

        v_t = mu * v_{t-1} + g_t,                  w_{t+1} = w_t - eta * v_t

    Exponential-moving-average form, ``ema=True`` (lecture 000 slide 24
    "Gradient Descent with Momentum"; lecture 001 "momentum as an exponential
    average")::

        v_t = beta * v_{t-1} + (1 - beta) * g_t,   w_{t+1} = w_t - eta * v_t

    Both start from v_0 = 0. The EMA form's steps are (1 - beta) times the
    classic ones at the same eta, so it wants a learning rate about
    1 / (1 - beta) larger.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-2): the learning rate eta
        momentum (float, default 0.9): mu (beta in the EMA form)
        ema (bool, default False): the exponential-moving-average form
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        maximize, foreach, differentiable: torch.optim's options, defaults False,
            None, False (``LectureOptimizer``)

    Versus torch.optim.SGD: ``ema=False`` is exactly torch.optim.SGD(momentum=mu)
    with dampening 0 (the same numbers and state key ``momentum_buffer``: v_1 =
    g_1 in both); ``ema=True`` has no torch counterpart. Dampening and the
    Nesterov step are not options here: see ``SGD`` and ``Nesterov``.
    """

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
