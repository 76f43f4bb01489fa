"""Adam (Kingma & Ba 2015), with AMSGrad (Reddi et al. 2018).

Lecture 000 "Algorithm 1", lecture 001 ("Adam derived"), lecture 002
(Module 5.9, "why bias correction")::

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

With the defaults, the same arguments, numbers and state keys (``step``,
``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) as torch.optim.Adam.

``update`` is the formula; ``update_group`` (used unless ``foreach=False``) is
the same step over many tensors with ``torch._foreach_*`` ops, with the bias
corrections folded into two scalars so each tensor is read the fewest times:
sqrt(v) / c2 + eps = (sqrt(v) + eps * c2) / c2, with c2 = sqrt(1 - beta2^t).
``fused=True`` runs ``_adam_kernel``, the same step compiled into one pass
over each tensor (base.py, ``compiled``).
"""

import torch

from .adaptive import (bias_corrections, denominator, folded_eps, folded_step_size,
                       foreach_denominator, foreach_moments)
from .base import LectureOptimizer, compiled, count_step, count_steps, decayed_grad, new_step_counter, zeros


class Adam(LectureOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, bias_correction=True, *, maximize=False, eps_in_sqrt=False,
                 decoupled_weight_decay=False, foreach=None, fused=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, bias_correction=bias_correction,
                                      maximize=maximize, eps_in_sqrt=eps_in_sqrt,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, fused=fused))

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
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
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
        ts = count_steps(states)
        step_sizes, eps_terms = _folded_scalars(ts, group)
        shrink = 1 - group["lr"] * group["weight_decay"]
        coefs = torch.tensor([(s, e, shrink) for s, e in zip(step_sizes, eps_terms)], dtype=torch.float64)
        beta1, beta2 = group["betas"]
        v_maxes = [state["max_exp_avg_sq"] for state in states] if group["amsgrad"] else None
        compiled(_adam_kernel)(
            params, grads, [state["exp_avg"] for state in states],
            [state["exp_avg_sq"] for state in states], v_maxes, coefs, beta1=beta1, beta2=beta2,
            weight_decay=group["weight_decay"], decoupled=group["decoupled_weight_decay"],
            maximize=group["maximize"], eps_in_sqrt=group["eps_in_sqrt"])


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


def _adam_kernel(params, grads, ms, vs, v_maxes, coefs, *, beta1, beta2, weight_decay, decoupled,
                 maximize, eps_in_sqrt):
    """``update`` for every tensor, written for torch.compile: coefs[i] holds
    tensor i's step size, eps term and decoupled-decay factor (tensors, so that
    a new lr or step does not recompile)."""
    for i, (param, grad, m, v) in enumerate(zip(params, grads, ms, vs)):
        step_size, eps_term, shrink = coefs[i, 0], coefs[i, 1], coefs[i, 2]
        grad = decayed_grad(param, grad, maximize=maximize, weight_decay=weight_decay,
                            decoupled=decoupled, shrink=shrink)
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if v_maxes is not None:
            v = v_maxes[i].copy_(torch.maximum(v_maxes[i], v))
        denom = (v + eps_term).sqrt() if eps_in_sqrt else v.sqrt() + eps_term
        param.add_(m / denom * step_size)
