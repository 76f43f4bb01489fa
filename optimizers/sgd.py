"""Stochastic gradient descent, with torch.optim.SGD's momentum options.

Update (lecture 002, Module 5.2 "gradient descent"; lecture 000 "batch /
stochastic / mini-batch GD")::

    g_t = grad L(w_t)                 (+ wd * w_t  for L2 weight decay)
    w_{t+1} = w_t - eta * g_t

With ``momentum`` mu > 0 it is torch.optim.SGD's heavy ball, buffer b::

    b_1 = g_1,  b_t = mu * b_{t-1} + (1 - dampening) * g_t
    w_{t+1} = w_t - eta * b_t                     (nesterov=False)
    w_{t+1} = w_t - eta * (g_t + mu * b_t)        (nesterov=True)

Differs from the lecture only where torch does: the first buffer is g_1 itself,
not (1 - dampening) * g_1 (the two agree for dampening = 0).
Same arguments, numbers and state key (``momentum_buffer``) as torch.optim.SGD.
For the lecture's forms see ``Momentum`` and ``Nesterov``.
"""

from .base import LectureOptimizer, check


class SGD(LectureOptimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        check("nesterov", nesterov, not nesterov or (momentum > 0 and dampening == 0),
              "False unless momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def update(self, param, grad, state, group):
        mu = group["momentum"]
        if mu != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.clone().detach()
            else:
                state["momentum_buffer"].mul_(mu).add_(grad, alpha=1 - group["dampening"])
            buf = state["momentum_buffer"]
            grad = grad.add(buf, alpha=mu) if group["nesterov"] else buf
        param.add_(grad, alpha=-group["lr"])
