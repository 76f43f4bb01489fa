"""Exercise: Adagrad, a learning rate per parameter.

Lecture 000 (AdaGrad, equation 8), lecture 002 Module 5.9 (Adagrad on sparse
features), lecture 004 (the CS231n AdaGrad code)::

    G_t     = G_{t-1} + grad_t^2                             G_0 = 0
    w_{t+1} = w_t - eta * grad_t / (sqrt(G_t) + eps)

Every operation is element by element. eps is added outside the square root,
as in torch.optim.Adagrad. Here eta is ``group["lr"]`` and eps is
``group["eps"]``; keep G_t in ``state``.

Check your work:  descentlab lab check adagrad --path adagrad.py
"""

import torch

from descentlab.optimizers import LectureOptimizer


class Adagrad(LectureOptimizer):
    def __init__(self, params, lr=1e-2, eps=1e-10):
        super().__init__(params, dict(lr=lr, eps=eps))

    def init_state(self, param, group):
        """The state of one parameter before its first step (a dict)."""
        # TODO: return a dict holding G_0 = 0 (torch.zeros_like(param)).
        raise NotImplementedError("TODO: init_state")

    def update(self, param, grad, state, group):
        """One step of one parameter: change ``param`` in place (``param -= ...``)."""
        # TODO: G_t, then w_{t+1}. tensor.sqrt() is the element-wise square root.
        raise NotImplementedError("TODO: update")
