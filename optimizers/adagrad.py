"""AdaGrad (Duchi et al. 2011).

Lecture 000 slides 27-28 and lecture 002 ("Adagrad on sparse data")::

    G_t     = G_{t-1} + g_t^2
    eta_t   = eta / (1 + (t - 1) * lr_decay)
    w_{t+1} = w_t - eta_t * g_t / (sqrt(G_t) + eps)          (eps_in_sqrt=False)
    w_{t+1} = w_t - eta_t * g_t / sqrt(G_t + eps)            (eps_in_sqrt=True)

G_0 = initial_accumulator_value. ``eps_in_sqrt=True`` is the CS7015 code
(``eta / np.sqrt(v_w + eps)``) and lecture 000's ``eta / sqrt(eps + G_t)``;
the default puts eps outside, as torch.optim.Adagrad does (same arguments,
numbers and state keys ``step``, ``sum``).
``update_group`` (used unless ``foreach=False``) is the same step with
``torch._foreach_*`` ops over many tensors; ``fused=True`` runs
``_adagrad_kernel``, the step compiled into one pass over each tensor
(base.py, ``compiled``).
"""

import torch

from .adaptive import denominator, foreach_denominator
from .base import LectureOptimizer, compiled, count_step, count_steps, decayed_grad, new_step_counter


class Adagrad(LectureOptimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False, eps_in_sqrt=False, foreach=None, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize, eps_in_sqrt=eps_in_sqrt,
                                      foreach=foreach, fused=fused))

    def init_state(self, param, group):
        return {
            "step": new_step_counter(param),
            "sum": torch.full_like(param, group["initial_accumulator_value"],
                                   memory_format=torch.preserve_format),
        }

    def update(self, param, grad, state, group):
        t = count_step(state)
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        G = state["sum"]
        G.addcmul_(grad, grad, value=1)
        param.addcdiv_(grad, denominator(G, group["eps"], group["eps_in_sqrt"]), value=-lr)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        Gs = [state["sum"] for state in states]
        torch._foreach_addcmul_(Gs, grads, grads, 1)
        denom = foreach_denominator(Gs, group["eps"], group["eps_in_sqrt"])
        torch._foreach_addcdiv_(params, grads, denom, [-lr for lr in _decayed_lrs(ts, group)])

    def update_fused(self, params, grads, states, group):
        lrs = torch.tensor(_decayed_lrs(count_steps(states), group), dtype=torch.float64)
        compiled(_adagrad_kernel)(
            params, grads, [state["sum"] for state in states], lrs, eps=group["eps"],
            eps_in_sqrt=group["eps_in_sqrt"], weight_decay=group["weight_decay"],
            maximize=group["maximize"])


def _decayed_lrs(ts, group):
    """eta_t = eta / (1 + (t - 1) * lr_decay) for each step number t."""
    return [group["lr"] / (1 + (t - 1) * group["lr_decay"]) for t in ts]


def _adagrad_kernel(params, grads, sums, lrs, *, eps, eps_in_sqrt, weight_decay, maximize):
    """``update`` for every tensor, written for torch.compile (lrs is a tensor,
    so that a new lr or step does not recompile)."""
    for i, (param, grad, G) in enumerate(zip(params, grads, sums)):
        grad = decayed_grad(param, grad, maximize=maximize, weight_decay=weight_decay,
                            decoupled=False, shrink=None)
        G.addcmul_(grad, grad, value=1)
        denom = (G + eps).sqrt() if eps_in_sqrt else G.sqrt() + eps
        param.sub_(grad / denom * lrs[i])
