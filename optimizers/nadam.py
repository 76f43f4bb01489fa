"""NAdam: ``NAdam.update`` is the formula, ``update_group`` the same step with
``torch._foreach_*`` ops, 1 / sqrt(1 - beta2^t) folded into the two step sizes."""

import torch

from .adaptive import bias_corrections, denominator, foreach_moments
from .base import (LectureOptimizer, check, count_step, count_steps,
                   new_step_counter, scalar_step_dtype, zeros)


class NAdam(LectureOptimizer):
    """NAdam: Adam with Nesterov momentum (Dozat 2016).

    Lecture 002 (Module 5.5, NAG: "look ahead" before stepping) applied to Adam
    (lecture 000 Algorithm 1). The momentum coefficient warms up with
    ``momentum_decay`` psi, and the step looks one momentum step ahead::

        mu_t    = beta1 * (1 - 0.5 * 0.96^(t * psi))
        m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        v^_t    = v_t / (1 - beta2^t)
        w_{t+1} = w_t - eta * (1 - mu_t) / (1 - prod_{i<=t} mu_i)     * g_t / (sqrt(v^_t) + eps)
                      - eta * mu_{t+1}   / (1 - prod_{i<=t+1} mu_i)   * m_t / (sqrt(v^_t) + eps)

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 2e-3): the learning rate eta
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t and mu_t, beta2 of v_t
        eps (float, default 1e-8): added to sqrt(v^_t)
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        momentum_decay (float, default 4e-3): psi, how fast mu_t warms up
        decoupled_weight_decay (bool, default False): shrink the weights (NAdamW)
        foreach, maximize, capturable, differentiable: torch.optim's options,
            defaults None, False, False, False (``LectureOptimizer``)

    Versus torch.optim.NAdam: the same arguments, numbers and state keys
    (``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``). Like torch,
    ``mu_product`` is a float32 scalar unless the default dtype is float64, even
    for float64 parameters: the product is rounded to that precision at every
    step.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check("momentum_decay", momentum_decay, momentum_decay >= 0, "a number >= 0")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))

    def init_state(self, param, group):
        return {"step": new_step_counter(param),
                "mu_product": torch.tensor(1.0, dtype=scalar_step_dtype(), device=param.device),
                "exp_avg": zeros(param), "exp_avg_sq": zeros(param)}

    def update(self, param, grad, state, group):
        t = count_step(state)
        beta1, beta2 = group["betas"]
        psi, lr = group["momentum_decay"], group["lr"]
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"].item()     # rounded as torch rounds it
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = denominator(v, group["eps"], correction=bias_corrections(t, group["betas"])[1])
        # scaled copies of g and m: differentiable=True needs m unchanged until the next step
        param.sub_(grad * (lr * (1 - mu) / (1 - mu_product)) / denom)
        param.sub_(m * (lr * mu_next / (1 - mu_product * mu_next)) / denom)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        beta1 = group["betas"][0]
        psi, lr = group["momentum_decay"], group["lr"]
        mus = [beta1 * (1 - 0.5 * 0.96 ** (t * psi)) for t in ts]
        mu_nexts = [beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi)) for t in ts]
        products = [state["mu_product"] for state in states]
        torch._foreach_mul_(products, mus)
        mu_products = torch.stack(products).tolist()     # rounded as torch rounds them
        ms, vs = foreach_moments(states, grads, grads, group["betas"])
        c2 = [bias_corrections(t, group["betas"])[1] for t in ts]  # sqrt(v^) + eps = (sqrt(v) + eps*c2) / c2
        denom = torch._foreach_sqrt(vs)
        torch._foreach_add_(denom, [group["eps"] * c for c in c2])
        torch._foreach_addcdiv_(params, grads, denom, [-lr * (1 - mu) / (1 - mp) * c
                                                       for mu, mp, c in zip(mus, mu_products, c2)])
        torch._foreach_addcdiv_(params, ms, denom, [-lr * mn / (1 - mp * mn) * c
                                                    for mn, mp, c in zip(mu_nexts, mu_products, c2)])
