"""RAdam: ``RAdam.update`` is the formula, ``update_group`` the same step with
``torch._foreach_*`` ops; ``_rectification`` gives r_t to both."""

import torch

from .adaptive import bias_corrections, foreach_moments
from .base import LectureOptimizer, count_step, count_steps, new_step_counter, zeros


class RAdam(LectureOptimizer):
    """RAdam: Adam with a rectified adaptive learning rate (Liu et al. 2020).

    Lecture 004 ("Recent SGD based optimizers": Rectified Adam). Early on, v_t
    has seen too few gradients for its variance to be trusted, so RAdam takes
    plain bias-corrected momentum steps until the length of the approximated
    simple moving average rho_t exceeds 5, then rectifies Adam's step by r_t::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t,      m^_t = m_t / (1 - beta1^t)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        rho_inf = 2 / (1 - beta2) - 1
        rho_t   = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:   r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                     w_{t+1} = w_t - eta * m^_t * r_t * sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
        otherwise:   w_{t+1} = w_t - eta * m^_t

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t, beta2 of v_t and rho_t
        eps (float, default 1e-8): added to sqrt(v_t)
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        decoupled_weight_decay (bool, default False): shrink the weights, as AdamW
        foreach, maximize, capturable, differentiable: torch.optim's options,
            defaults None, False, False, False (``LectureOptimizer``)

    Versus torch.optim.RAdam: the same arguments, numbers and state keys
    (``step``, ``exp_avg``, ``exp_avg_sq``).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))

    def init_state(self, param, group):
        return {"step": new_step_counter(param), "exp_avg": zeros(param), "exp_avg_sq": zeros(param)}

    def update(self, param, grad, state, group):
        t = count_step(state)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        c1, c2 = bias_corrections(t, group["betas"])
        m_hat = m / c1
        r_t = _rectification(t, beta2, c2)
        if r_t is not None:
            adaptive = c2 / v.sqrt().add_(group["eps"])
            param.add_(m_hat * group["lr"] * adaptive * r_t, alpha=-1.0)
        else:
            param.add_(m_hat * group["lr"], alpha=-1.0)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        ms, vs = foreach_moments(states, grads, grads, group["betas"])
        rectified, steps = [], []
        for i, t in enumerate(ts):
            c1, c2 = bias_corrections(t, group["betas"])
            step = -group["lr"] / c1
            r_t = _rectification(t, group["betas"][1], c2)
            if r_t is not None:
                rectified.append(i)
                steps.append(step * r_t * c2)
            else:
                params[i].add_(ms[i], alpha=step)         # the first few steps only
        if rectified:
            denom = torch._foreach_sqrt([vs[i] for i in rectified])
            torch._foreach_add_(denom, group["eps"])
            torch._foreach_addcdiv_([params[i] for i in rectified], [ms[i] for i in rectified], denom, steps)


def _rectification(t, beta2, c2):
    """r_t at step t, with c2 = sqrt(1 - beta2^t) (``bias_corrections``); None while
    rho_t <= 5, where v_t has seen too few gradients for its variance to be trusted."""
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / c2 ** 2
    if rho_t <= 5:
        return None
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
