"""AdaBelief: ``AdaBelief.update`` is the formula, ``update_group`` the same step
with ``torch._foreach_*`` ops."""

import torch

from .adaptive import bias_corrections, denominator, folded_eps, folded_step_size
from .base import LectureOptimizer, count_step, count_steps, new_step_counter, zeros


class AdaBelief(LectureOptimizer):
    """AdaBelief (Zhuang et al., NeurIPS 2020), Algorithm 2 without rectification.

    Lecture 004 ("Recent SGD based optimizers"). Adam divides by the EMA of g^2;
    AdaBelief divides by the EMA of (g - m)^2, its "belief" in the gradient: a
    gradient close to its prediction m gets a large step, a surprising one a
    small step::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        s_t = beta2 * s_{t-1} + (1 - beta2) * (g_t - m_t)^2 + eps
        m^_t = m_t / (1 - beta1^t),     s^_t = s_t / (1 - beta2^t)
        w_{t+1} = w_t - eta * m^_t / (sqrt(s^_t) + eps)

    eps appears twice, as in the authors' code, which the authors say to follow
    where it and the paper differ: it is added to s_t and stays in the state (so
    it accumulates through beta2), then once more outside the square root. We
    follow ``pypi_packages/adabelief_pytorch0.2.1/adabelief_pytorch/AdaBelief.py``
    of github.com/juntang-zhuang/Adabelief-Optimizer with ``rectify=False`` and,
    by default, ``weight_decouple=False`` (L2 decay added to the gradient, as in
    the paper; the package defaults to decoupled decay).

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t, beta2 of s_t
        eps (float, default 1e-16): the authors' value, added to s_t and to sqrt(s^_t)
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        decoupled_weight_decay (bool, default False): shrink the weights (the
            package's ``weight_decouple=True``)
        maximize, foreach: torch.optim's options, defaults False, None
            (``LectureOptimizer``)

    Versus torch.optim.Adam, the nearest (there is no torch.optim.AdaBelief):
    ``exp_avg_sq`` (EMA of g^2) becomes ``exp_avg_var`` (EMA of (g - m_t)^2,
    plus eps) and eps is used twice. State keys: ``step``, ``exp_avg``,
    ``exp_avg_var`` (the authors' names).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0, *,
                 decoupled_weight_decay=False, maximize=False, foreach=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach))

    def init_state(self, param, group):
        return {"step": new_step_counter(param), "exp_avg": zeros(param), "exp_avg_var": zeros(param)}

    def update(self, param, grad, state, group):
        t = count_step(state)
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        m, s = state["exp_avg"], state["exp_avg_var"]
        m.lerp_(grad, 1 - beta1)
        residual = grad - m
        s.mul_(beta2).addcmul_(residual, residual, value=1 - beta2).add_(eps)
        c1, c2 = bias_corrections(t, group["betas"])    # m^ = m / c1, sqrt(s^) = sqrt(s) / c2
        param.addcdiv_(m, denominator(s, eps, correction=c2), value=-group["lr"] / c1)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        ms, ss = [state["exp_avg"] for state in states], [state["exp_avg_var"] for state in states]
        torch._foreach_lerp_(ms, grads, 1 - beta1)
        residuals = torch._foreach_sub(grads, ms)
        torch._foreach_mul_(ss, beta2)
        torch._foreach_addcmul_(ss, residuals, residuals, 1 - beta2)
        torch._foreach_add_(ss, eps)
        del residuals  # freed before denom is allocated: one temporary per tensor at a time
        denom = torch._foreach_sqrt(ss)
        torch._foreach_add_(denom, [folded_eps(eps, bias_corrections(t, group["betas"])[1]) for t in ts])
        torch._foreach_addcdiv_(params, ms, denom, [-folded_step_size(group["lr"], t, group["betas"]) for t in ts])
