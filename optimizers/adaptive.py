"""The pieces of arithmetic the adaptive methods share, written once.

Adam and the optimizers built on it (AdaBelief, diffGrad, AdaInject,
AngularGrad, NAdam, RAdam), Adagrad and RMSprop all divide a step by a
square root of a moving average of squared gradients. Each optimizer's file
still writes its own update as the lecture formula; what they have in common
is named here so that a fix lands once:

* ``bias_corrections``: c1 = 1 - beta1^t and c2 = sqrt(1 - beta2^t), so that
  m^ = m / c1 and sqrt(v^) = sqrt(v) / c2 (lecture 002, Module 5.9 "why bias
  correction");
* ``folded_step_size`` and ``folded_eps``: the same step with both
  corrections moved into two scalars, which the fast paths use so that each
  tensor is read the fewest times::

      eta * m^ / (sqrt(v^) + eps)  =  (eta * c2 / c1) * m / (sqrt(v) + eps * c2)
      eta * m^ / sqrt(v^ + eps)    =  (eta * c2 / c1) * m / sqrt(v + eps * c2^2)

* ``denominator``: sqrt(v^) + eps, or sqrt(v^ + eps) with ``eps_in_sqrt``
  (the CS7015 code's ``np.sqrt(v + eps)``), for one tensor;
* ``running_max_``: AMSGrad's running maximum of v;
* ``foreach_moments`` and ``foreach_denominator``: Adam's two moving averages
  and the denominator over a list of tensors (``torch._foreach_*`` ops).
"""

import torch


def bias_corrections(t, betas):
    """(c1, c2) = (1 - beta1^t, sqrt(1 - beta2^t)) at step t."""
    beta1, beta2 = betas
    return 1 - beta1 ** t, (1 - beta2 ** t) ** 0.5


def folded_step_size(lr, t, betas):
    """eta * sqrt(1 - beta2^t) / (1 - beta1^t): the step size of
    w -= step * m / (sqrt(v) + eps'), both bias corrections folded in."""
    c1, c2 = bias_corrections(t, betas)
    return lr * c2 / c1


def folded_eps(eps, c2, eps_in_sqrt=False):
    """The eps of the folded step: eps * c2 outside the square root, eps * c2^2 inside."""
    return eps * c2 * c2 if eps_in_sqrt else eps * c2


def denominator(v, eps, eps_in_sqrt=False, correction=1.0):
    """sqrt(v^) + eps, or sqrt(v^ + eps) with ``eps_in_sqrt``, where
    v^ = v / correction^2 (``correction`` is c2 for a bias-corrected v). A new
    tensor, computed out of place so that autograd can differentiate it
    (``differentiable=True``)."""
    if eps_in_sqrt:
        return (v / correction ** 2 + eps).sqrt()
    root = v.sqrt()
    return (root if correction == 1 else root / correction) + eps


def running_max_(v_max, v):
    """AMSGrad's v_max <- max(v_max, v), in place; returns v_max. When autograd
    records the step (``differentiable=True``) the maximum reads a copy of the
    old v_max, which the in-place write would otherwise change under it."""
    recorded = torch.is_grad_enabled() and (v.requires_grad or v_max.requires_grad)
    return v_max.copy_(torch.maximum(v_max.clone() if recorded else v_max, v))


def foreach_moments(states, first, second, betas):
    """Adam's two moving averages over a list of tensors:
    m <- b1 m + (1 - b1) first, v <- b2 v + (1 - b2) second^2 (state keys
    ``exp_avg``, ``exp_avg_sq``). Returns the lists (ms, vs)."""
    beta1, beta2 = betas
    ms, vs = [state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states]
    torch._foreach_lerp_(ms, first, 1 - beta1)
    torch._foreach_mul_(vs, beta2)
    torch._foreach_addcmul_(vs, second, second, 1 - beta2)
    return ms, vs


def foreach_denominator(values, eps, eps_in_sqrt, in_place=False):
    """``denominator`` over a list of tensors (no correction: fold it into
    ``eps`` with ``folded_eps``). ``eps`` is a number or one per tensor.
    A new list, or ``values`` itself overwritten when ``in_place``."""
    if in_place:
        if eps_in_sqrt:
            torch._foreach_add_(values, eps)
            torch._foreach_sqrt_(values)
        else:
            torch._foreach_sqrt_(values)
            torch._foreach_add_(values, eps)
        return values
    if eps_in_sqrt:
        denom = torch._foreach_add(values, eps)
        torch._foreach_sqrt_(denom)
    else:
        denom = torch._foreach_sqrt(values)
        torch._foreach_add_(denom, eps)
    return denom
