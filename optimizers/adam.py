"""Adam and AMSGrad. ``Adam.update`` is the formula; ``update_group`` the same
step with ``torch._foreach_*`` ops, the bias corrections folded into two
scalars (``_folded_scalars``) so that each tensor is read the fewest times;
``_adam_kernel`` the step compiled for ``fused=True`` (fused.py)."""

import torch

from .adaptive import (bias_corrections, denominator, folded_eps, folded_step_size,
                       foreach_denominator, foreach_moments, running_max_)
from .base import LectureOptimizer, count_step, count_steps, new_step_counter, zeros
from .fused import decay_coefficients, kernel_for, kernel_grad


class Adam(LectureOptimizer):
    """Adam (Kingma & Ba 2015): momentum + RMSProp + bias correction, with AMSGrad
    (Reddi et al. 2018).

    Update (lecture 000 "Algorithm 1"; lecture 001 "Adam derived"; lecture 002,
    Module 5.9 "why bias correction")::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t          (momentum)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2        (RMSProp)
        m^_t = m_t / (1 - beta1^t),   v^_t = v_t / (1 - beta2^t)   (bias correction)
        w_{t+1} = w_t - eta * m^_t / (sqrt(v^_t) + eps)

    Options that are explicit lecture variants, never silent forks:

    * ``amsgrad=True``: v^_t uses vmax_t = max(vmax_{t-1}, v_t) in place of v_t;
    * ``bias_correction=False``: m^_t = m_t and v^_t = v_t (lecture 002 shows
      why the first steps are then too small);
    * ``eps_in_sqrt=True``: w -= eta * m^_t / sqrt(v^_t + eps) (the CS7015 code
      ``eta / np.sqrt(v_w_hat + eps)``);
    * ``decoupled_weight_decay=True``: AdamW's decay (see ``AdamW``).

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t, beta2 of v_t
        eps (float, default 1e-8): added to sqrt(v^_t)
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        amsgrad (bool, default False): divide by the running maximum of v_t
        decoupled_weight_decay (bool, default False): shrink the weights, as AdamW
        bias_correction (bool, default True): False drops both corrections
        eps_in_sqrt (bool, default False): eps inside the square root
        foreach, maximize, capturable, differentiable, fused: torch.optim's
            options, defaults None, False, False, False, None (``LectureOptimizer``)

    Versus torch.optim.Adam: with the defaults, the same arguments, numbers and
    state keys (``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``);
    ``bias_correction`` and ``eps_in_sqrt`` are ours.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False,
                 bias_correction=True, eps_in_sqrt=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused, decoupled_weight_decay=decoupled_weight_decay,
                                      bias_correction=bias_correction, eps_in_sqrt=eps_in_sqrt))

    def init_state(self, param, group):
        state = {"step": new_step_counter(param), "exp_avg": zeros(param), "exp_avg_sq": zeros(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros(param)
        return state

    def update(self, param, grad, state, group):
        t = count_step(state)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            v = running_max_(state["max_exp_avg_sq"], v)
        # m^ = m / c1, sqrt(v^) = sqrt(v) / c2
        c1, c2 = bias_corrections(t, group["betas"]) if group["bias_correction"] else (1.0, 1.0)
        denom = denominator(v, group["eps"], group["eps_in_sqrt"], correction=c2)
        param.addcdiv_(m, denom, value=-group["lr"] / c1)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        ms, vs = foreach_moments(states, grads, grads, group["betas"])
        if group["amsgrad"]:
            v_maxes = [state["max_exp_avg_sq"] for state in states]
            torch._foreach_maximum_(v_maxes, vs)
            vs = v_maxes
        step_sizes, eps_terms = _folded_scalars(ts, group)
        denom = foreach_denominator(vs, eps_terms, group["eps_in_sqrt"])
        torch._foreach_addcdiv_(params, ms, denom, step_sizes)

    def update_fused(self, params, grads, states, group):
        ms, vs = [state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states]
        v_maxes = [state["max_exp_avg_sq"] for state in states] if group["amsgrad"] else None
        kernel = kernel_for(_adam_kernel, params, grads, ms, vs, v_maxes)
        if kernel is None:
            return False
        step_sizes, eps_terms = _folded_scalars(count_steps(states), group)
        zeros_ = [0.0] * len(eps_terms)
        inside, outside = (eps_terms, zeros_) if group["eps_in_sqrt"] else (zeros_, eps_terms)
        kernel(params, grads, ms, vs, v_maxes, torch.tensor([step_sizes, inside, outside], dtype=torch.float64),
               torch.tensor([*decay_coefficients(group), *group["betas"]], dtype=torch.float64))
        return True


def _folded_scalars(ts, group):
    """Per tensor, the step size and eps term of the folded step
    w -= step_size * m / (sqrt(v) + eps_term)  (or sqrt(v + eps_term)),
    which equals the lecture's step (adaptive.py, ``folded_step_size``)."""
    if not group["bias_correction"]:
        return [-group["lr"]] * len(ts), [group["eps"]] * len(ts)
    step_sizes = [-folded_step_size(group["lr"], t, group["betas"]) for t in ts]
    eps_terms = [folded_eps(group["eps"], bias_corrections(t, group["betas"])[1], group["eps_in_sqrt"])
                 for t in ts]
    return step_sizes, eps_terms


def _adam_kernel(params, grads, ms, vs, v_maxes, coefs, hyper):
    """``update`` for every tensor, written for torch.compile (fused.py):
    coefs holds each tensor's folded step size, eps inside and eps outside the
    square root (one of them 0), hyper the group's ``kernel_grad``
    coefficients, beta1 and beta2."""
    sign, l2, shrink, beta1, beta2 = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
    for i, (param, grad, m, v) in enumerate(zip(params, grads, ms, vs)):
        step_size, eps_inside, eps_outside = coefs[0, i], coefs[1, i], coefs[2, i]
        grad = kernel_grad(param, grad, sign, l2, shrink)
        m.add_((grad - m) * (1 - beta1))
        v.mul_(beta2).add_(grad * grad * (1 - beta2))
        if v_maxes is not None:
            v = v_maxes[i].copy_(torch.maximum(v_maxes[i], v))
        param.add_(m / ((v + eps_inside).sqrt() + eps_outside) * step_size)
