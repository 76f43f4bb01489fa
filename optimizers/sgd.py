"""Stochastic gradient descent: ``SGD.update`` is the formula; ``update_group``
the same step with ``torch._foreach_*`` ops; ``_sgd_kernel`` the step compiled
for ``fused=True`` (fused.py)."""

import torch

from .base import LectureOptimizer, check, value_of
from .fused import decay_coefficients, kernel_for, kernel_grad


class SGD(LectureOptimizer):
    """Stochastic gradient descent, with torch.optim.SGD's momentum options.

    Update (lecture 002, Module 5.2 "gradient descent"; lecture 000 "batch /
    stochastic / mini-batch GD")::

        g_t = grad L(w_t)                 (+ lambda * w_t  for L2 weight decay)
        w_{t+1} = w_t - eta * g_t

    With ``momentum`` mu > 0 it is torch.optim.SGD's heavy ball, buffer b::

        b_1 = g_1,  b_t = mu * b_{t-1} + (1 - dampening) * g_t
        w_{t+1} = w_t - eta * b_t                     (nesterov=False)
        w_{t+1} = w_t - eta * (g_t + mu * b_t)        (nesterov=True)

    For the lecture's own momentum forms see ``Momentum`` and ``Nesterov``.
    Sparse gradients (``nn.Embedding(sparse=True)``) take the readable step, as
    in torch.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta
        momentum (float, default 0): mu; 0 is plain gradient descent
        dampening (float, default 0): the buffer adds (1 - dampening) * g_t
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        nesterov (bool, default False): step with g_t + mu * b_t (needs momentum > 0
            and dampening = 0)
        maximize, foreach, differentiable, fused: torch.optim's options, defaults
            False, None, False, None (``LectureOptimizer``)

    Versus torch.optim.SGD: the same arguments, numbers and state key
    (``momentum_buffer``). Both differ from the lecture's heavy ball in one place:
    the first buffer is g_1 itself, not (1 - dampening) * g_1 (the two agree for
    dampening = 0).
    """

    supports_sparse = True

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None):
        check("nesterov", nesterov, not nesterov or (value_of(momentum) > 0 and value_of(dampening) == 0),
              "False unless momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def init_state(self, param, group):
        # None until the first step copies the gradient in (torch's convention)
        return {"momentum_buffer": None} if group["momentum"] != 0 else {}

    def update(self, param, grad, state, group):
        mu = group["momentum"]
        if mu != 0:
            if state.get("momentum_buffer") is None:
                state["momentum_buffer"] = grad.clone().detach()
            else:
                state["momentum_buffer"].mul_(mu).add_(grad, alpha=1 - group["dampening"])
            buf = state["momentum_buffer"]
            grad = grad.add(buf, alpha=mu) if group["nesterov"] else buf
        param.add_(grad, alpha=-group["lr"])

    def update_group(self, params, grads, states, group):
        mu, lr = group["momentum"], group["lr"]
        if mu == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        running = [i for i, state in enumerate(states) if state.get("momentum_buffer") is not None]
        if running:  # foreach ops refuse empty lists; on step 1 every buffer is new
            bufs = [states[i]["momentum_buffer"] for i in running]
            torch._foreach_mul_(bufs, mu)
            torch._foreach_add_(bufs, [grads[i] for i in running], alpha=1 - group["dampening"])
        for state, grad in zip(states, grads):
            if state.get("momentum_buffer") is None:
                state["momentum_buffer"] = grad.clone().detach()
        bufs = [state["momentum_buffer"] for state in states]
        if group["nesterov"]:
            # w -= lr * (g + mu * b) as two in-place adds: no temporary
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_add_(params, bufs, alpha=-lr * mu)
        else:
            torch._foreach_add_(params, bufs, alpha=-lr)

    def update_fused(self, params, grads, states, group):
        if group["momentum"] != 0 and any(state.get("momentum_buffer") is None for state in states):
            return False   # a new buffer starts as a copy of the gradient: the fast path's step
        bufs = [state["momentum_buffer"] for state in states] if group["momentum"] != 0 else None
        kernel = kernel_for(_sgd_kernel, params, grads, bufs)
        if kernel is None:
            return False
        hyper = [*decay_coefficients(group), group["lr"], group["momentum"], group["dampening"],
                 float(group["nesterov"])]
        kernel(params, grads, bufs, torch.tensor(hyper, dtype=torch.float64))
        return True


def _sgd_kernel(params, grads, bufs, hyper):
    """``update`` for every tensor, written for torch.compile (fused.py): hyper
    holds the group's ``kernel_grad`` coefficients, lr, momentum, dampening
    and nesterov (1 or 0)."""
    sign, l2, shrink, lr, mu, dampening, nesterov = (hyper[k] for k in range(7))
    for i, (param, grad) in enumerate(zip(params, grads)):
        grad = kernel_grad(param, grad, sign, l2, shrink)
        if bufs is not None:
            buf = bufs[i].mul_(mu).add_(grad * (1 - dampening))
            grad = torch.where(nesterov == 1, grad + mu * buf, buf)
        param.sub_(grad * lr)
