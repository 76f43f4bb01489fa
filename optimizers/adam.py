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
"""

import torch

from .base import LectureOptimizer, count_step, count_steps, new_step_counter


class Adam(LectureOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, bias_correction=True, *, maximize=False, eps_in_sqrt=False,
                 decoupled_weight_decay=False, foreach=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, bias_correction=bias_correction,
                                      maximize=maximize, eps_in_sqrt=eps_in_sqrt,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach))

    def init_state(self, param, group):
        zeros = lambda: torch.zeros_like(param, memory_format=torch.preserve_format)  # noqa: E731
        state = {"step": new_step_counter(param), "exp_avg": zeros(), "exp_avg_sq": zeros()}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros()
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
        if group["bias_correction"]:
            step_size = group["lr"] / (1 - beta1 ** t)
            v_hat_scale = (1 - beta2 ** t) ** 0.5       # sqrt(v^) = sqrt(v) / v_hat_scale
        else:
            step_size, v_hat_scale = group["lr"], 1.0
        if group["eps_in_sqrt"]:
            denom = v.div(v_hat_scale ** 2).add_(group["eps"]).sqrt_()
        else:
            denom = v.sqrt().div_(v_hat_scale).add_(group["eps"])
        param.addcdiv_(m, denom, value=-step_size)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        beta1, beta2 = group["betas"]
        ms = [state["exp_avg"] for state in states]
        vs = [state["exp_avg_sq"] for state in states]
        torch._foreach_lerp_(ms, grads, 1 - beta1)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, grads, grads, 1 - beta2)
        if group["amsgrad"]:
            v_maxes = [state["max_exp_avg_sq"] for state in states]
            torch._foreach_maximum_(v_maxes, vs)
            vs = v_maxes
        if group["bias_correction"]:
            c1 = [1 - beta1 ** t for t in ts]
            c2 = [(1 - beta2 ** t) ** 0.5 for t in ts]
        else:
            c1 = c2 = [1.0] * len(ts)
        eps = group["eps"]
        if group["eps_in_sqrt"]:
            denom = torch._foreach_add(vs, [eps * c * c for c in c2])
            torch._foreach_sqrt_(denom)                   # = c2 * sqrt(v^ + eps)
        else:
            denom = torch._foreach_sqrt(vs)
            torch._foreach_add_(denom, [eps * c for c in c2])  # = c2 * (sqrt(v^) + eps)
        torch._foreach_addcdiv_(params, ms, denom, [-group["lr"] * b / a for a, b in zip(c1, c2)])
