"""Gradient clipping, between ``loss.backward()`` and ``optimizer.step()``.

Lecture 003 ("dealing with exploding gradients is easy: gradient clipping
prevents extreme values"). With g the gradients of all parameters as one
vector::

    clip_grad_norm:   ||g|| = (sum over params of ||g_p||^p)^(1/p)       (global norm, p = norm_type)
                      g <- g * min(1, max_norm / (||g|| + 1e-6))        (Pascanu, Mikolov & Bengio 2013)
    clip_grad_value:  g <- clamp(g, -clip_value, clip_value)            (element by element)

Both modify ``.grad`` in place, skip parameters whose ``.grad`` is None, and
return the global norm before clipping as a float (2-norm for
``clip_grad_value``), for logging. The numbers are those of
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``, including what
happens to a non-finite norm: the gradients become NaN, so a diverging run
shows up in its loss instead of being silently rescaled.

    loss.backward()
    norm = clip_grad_norm(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

import math

import torch

from .base import check


def _grads(params):
    if isinstance(params, torch.Tensor):
        params = [params]
    return [p.grad for p in params if p.grad is not None]


def _global_norm(grads, norm_type):
    norms = [torch.linalg.vector_norm(g, norm_type) for g in grads]
    return torch.linalg.vector_norm(torch.stack(norms), norm_type)


def _positive(name, value):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf
    check(name, value, ok, "a finite number > 0")


def clip_grad_norm(params, max_norm, norm_type=2.0):
    """Rescale all gradients together so that their global norm is at most ``max_norm``."""
    _positive("max_norm", max_norm)
    ok = isinstance(norm_type, (int, float)) and not isinstance(norm_type, bool) and norm_type >= 1
    check("norm_type", norm_type, ok, "a number >= 1 (or math.inf)")
    grads = _grads(params)
    if not grads:
        return 0.0
    total = _global_norm(grads, norm_type)
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale.to(g.dtype))
    return total.item()


def clip_grad_value(params, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value]."""
    _positive("clip_value", clip_value)
    grads = _grads(params)
    if not grads:
        return 0.0
    total = _global_norm(grads, 2.0).item()
    for g in grads:
        g.clamp_(-clip_value, clip_value)
    return total
