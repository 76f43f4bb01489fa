"""AngularGrad: ``AngularGrad.update`` is the formula (no fast path: its
per-tensor majority vote leaves little to batch)."""

import math

import torch

from .adaptive import denominator, folded_step_size
from .base import LectureOptimizer, check, count_step, new_step_counter, zeros

METHODS = ("cos", "tan")


class AngularGrad(LectureOptimizer):
    """AngularGrad (Roy, Paoletti, Haut, Dubey et al. 2021): Adam whose step is
    scaled by a coefficient computed from the angle between consecutive gradients.

    Lecture 004 ("Recent SGD based optimizers": AngularGrad). Element by element::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        tan A_t = |(g_{t-1} - g_t) / (1 + g_{t-1} * g_t)|,   A_t in degrees
        if fewer elements of the tensor have A_t > A_min than not:
            A_min = A_t,   theta = cos A_t  (method "cos")  or  tan A_t  (method "tan")
        phi_t = tanh(|theta|) * 0.5 + 0.5                               (angular coefficient)
        w_{t+1} = w_t - eta * sqrt(1 - beta2^t) / (1 - beta1^t) * phi_t * m_t / (sqrt(v_t) + eps)

    We follow the authors' implementation, ``angulargrad/cosangulargrad.py`` and
    ``angulargrad/tanangulargrad.py`` of github.com/mhaut/AngularGrad (the pip
    package): g_0 = 0, A_min and theta start at 0, and the minimum angle is
    replaced for the whole tensor at once, by the majority vote above (their
    ``torch.unique`` count; a tie keeps the old values), not element by element
    as the paper's min(A_{t-1}, A_t) reads. Since A_min starts at 0, phi stays
    1/2 until most elements of a tensor repeat their previous gradient (A_t = 0),
    e.g. sparse gradients. Their state also keeps ``diff`` = |g_{t-1} - g_t|,
    which never enters the update; it is left out.

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta, before the coefficient phi_t
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t, beta2 of v_t
        eps (float, default 1e-8): added to sqrt(v_t), before the bias corrections
        weight_decay (float, default 0): lambda (``LectureOptimizer``)
        method (str, default "cos"): theta = cos A_t ("cos") or tan A_t ("tan")
        maximize: torch.optim's option, default False (``LectureOptimizer``)

    Versus torch.optim.Adam, the nearest (there is no torch.optim.AngularGrad):
    the step is multiplied by phi_t, and eps is added as in diffGrad (to
    sqrt(v_t), before the bias corrections are folded into the step size). No
    ``foreach``: the readable path only. State keys: ``step``, ``exp_avg``,
    ``exp_avg_sq``, ``previous_grad``, ``min``, ``final_cos_theta`` or
    ``final_tan_theta`` (the authors' names).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 method="cos", *, maximize=False):
        check("method", method, method in METHODS, " or ".join(map(repr, METHODS)))
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      method=method, maximize=maximize))

    def init_state(self, param, group):
        return {"step": new_step_counter(param), "exp_avg": zeros(param), "exp_avg_sq": zeros(param),
                "previous_grad": zeros(param), "min": zeros(param), f"final_{group['method']}_theta": zeros(param)}

    def update(self, param, grad, state, group):
        t = count_step(state)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = denominator(v, group["eps"])

        previous = state["previous_grad"]
        tan_theta = ((previous - grad) / (1 + previous * grad)).abs_()
        angle = torch.atan(tan_theta) * (180 / math.pi)
        final = state[f"final_{group['method']}_theta"]
        above = int((angle > state["min"]).sum())
        if above < angle.numel() - above:
            state["min"].copy_(angle)
            final.copy_(tan_theta if group["method"] == "tan" else (1 + tan_theta.square()).rsqrt())
        coefficient = torch.tanh(final.abs()).mul_(0.5).add_(0.5)
        previous.copy_(grad)

        step_size = folded_step_size(group["lr"], t, group["betas"])
        param.addcdiv_(m * coefficient, denom, value=-step_size)
