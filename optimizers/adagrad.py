"""AdaGrad: ``Adagrad.update`` is the formula (sparse gradients in
``_sparse_update``); ``update_group`` the same step with ``torch._foreach_*``
ops; ``_adagrad_kernel`` the step compiled for ``fused=True`` (fused.py)."""

import torch

from .adaptive import denominator, foreach_denominator
from .base import LectureOptimizer, count_step, count_steps, new_step_counter
from .fused import decay_coefficients, kernel_for, kernel_grad


class Adagrad(LectureOptimizer):
    """AdaGrad (Duchi et al. 2011): a per-weight learning rate that shrinks with
    the sum of that weight's squared gradients.

    Update (lecture 000 slides 27-28; lecture 002, Module 5.9 "Adagrad on sparse
    features")::

        G_t     = G_{t-1} + g_t^2
        eta_t   = eta / (1 + (t - 1) * lr_decay)
        w_{t+1} = w_t - eta_t * g_t / (sqrt(G_t) + eps)          (eps_in_sqrt=False)
        w_{t+1} = w_t - eta_t * g_t / sqrt(G_t + eps)            (eps_in_sqrt=True)

    G_0 = initial_accumulator_value. ``eps_in_sqrt=True`` is the CS7015 code
    (``eta / np.sqrt(v_w + eps)``) and lecture 000's ``eta / sqrt(eps + G_t)``.
    Sparse gradients (``nn.Embedding(sparse=True)``) update only the rows they
    touch, as in torch.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-2): the learning rate eta
        lr_decay (float, default 0): eta_t = eta / (1 + (t - 1) * lr_decay)
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        initial_accumulator_value (float, default 0): G_0
        eps (float, default 1e-10): added to sqrt(G_t), or inside the root
        eps_in_sqrt (bool, default False): eps inside the square root
        foreach, maximize, differentiable, fused: torch.optim's options, defaults
            None, False, False, None (``LectureOptimizer``)

    Versus torch.optim.Adagrad: the default (eps outside the root) is torch's:
    the same arguments, numbers and state keys (``step``, ``sum``);
    ``eps_in_sqrt`` is ours.
    """

    supports_sparse = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None,
                 eps_in_sqrt=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused,
                                      eps_in_sqrt=eps_in_sqrt))

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
        if grad.is_sparse:
            _sparse_update(param, grad, G, lr, group)
            return
        G.addcmul_(grad, grad, value=1)
        param.addcdiv_(grad, denominator(G, group["eps"], group["eps_in_sqrt"]), value=-lr)

    @staticmethod
    def prepare_grad(param, group):
        if param.grad.is_sparse and group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        return LectureOptimizer.prepare_grad(param, group)

    def update_group(self, params, grads, states, group):
        ts = count_steps(states)
        Gs = [state["sum"] for state in states]
        torch._foreach_addcmul_(Gs, grads, grads, 1)
        denom = foreach_denominator(Gs, group["eps"], group["eps_in_sqrt"])
        torch._foreach_addcdiv_(params, grads, denom, [-lr for lr in _decayed_lrs(ts, group)])

    def update_fused(self, params, grads, states, group):
        sums = [state["sum"] for state in states]
        kernel = kernel_for(_adagrad_kernel, params, grads, sums)
        if kernel is None:
            return False
        lrs = torch.tensor(_decayed_lrs(count_steps(states), group), dtype=torch.float64)
        eps = (group["eps"], 0.0) if group["eps_in_sqrt"] else (0.0, group["eps"])
        kernel(params, grads, sums, lrs, torch.tensor([*decay_coefficients(group), *eps], dtype=torch.float64))
        return True


def _sparse_update(param, grad, G, lr, group):
    """The update on the rows a sparse gradient touches (``nn.Embedding(sparse=True)``),
    as torch.optim.Adagrad: the other rows of w and G do not change."""
    grad = grad.coalesce()    # the update is not linear in g: one value per index
    indices, values = grad._indices(), grad._values()
    G.add_(torch.sparse_coo_tensor(indices, values * values, grad.shape, check_invariants=False))
    denom = denominator(G.sparse_mask(grad)._values(), group["eps"], group["eps_in_sqrt"])
    param.add_(torch.sparse_coo_tensor(indices, values / denom, grad.shape, check_invariants=False), alpha=-lr)


def _decayed_lrs(ts, group):
    """eta_t = eta / (1 + (t - 1) * lr_decay) for each step number t."""
    return [group["lr"] / (1 + (t - 1) * group["lr_decay"]) for t in ts]


def _adagrad_kernel(params, grads, sums, lrs, hyper):
    """``update`` for every tensor, written for torch.compile (fused.py): lrs
    holds each tensor's decayed lr, hyper the group's ``kernel_grad``
    coefficients and eps inside and outside the square root (one of them 0)."""
    sign, l2, shrink, eps_inside, eps_outside = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
    for i, (param, grad, G) in enumerate(zip(params, grads, sums)):
        grad = kernel_grad(param, grad, sign, l2, shrink)
        G.addcmul_(grad, grad, value=1)
        param.sub_(grad / ((G + eps_inside).sqrt() + eps_outside) * lrs[i])
