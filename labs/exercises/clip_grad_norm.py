"""Exercise: gradient clipping by the global norm.

Lecture 003 (exploding gradients: "gradient clipping prevents extreme
values"; Pascanu, Mikolov & Bengio 2013). Between ``loss.backward()`` and
``optimizer.step()``, with g the gradients of all parameters taken together
as one long vector::

    norm = ||g|| = sqrt(sum over every parameter p of sum(p.grad^2))
    g    = g * min(1, max_norm / (norm + 1e-6))

One norm for all parameters together, not one per parameter: clipping must
shorten g without turning it. The 1e-6 (torch's) keeps a zero gradient from
dividing by zero. Change each ``p.grad`` in place (``p.grad *= scale``), skip
parameters whose ``.grad`` is None, and return the norm before clipping as a
float, for logging.

    loss.backward()
    clip_grad_norm(model.parameters(), max_norm=1.0)
    optimizer.step()

Check your work:  descentlab lab check clip_grad_norm --path clip_grad_norm.py
"""

import torch


def clip_grad_norm(params, max_norm):
    """Rescale the gradients of ``params`` together so that their norm is at most ``max_norm``."""
    # TODO: the global norm, the scale, the in-place rescaling, then return the norm.
    raise NotImplementedError("TODO: clip_grad_norm")
