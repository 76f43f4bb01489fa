"""Exercise: RMSProp, Adagrad with a forgetting history.

Lecture 000 (RMSProp), lecture 004 (the CS231n RMSProp code, ``decay_rate``)::

    v_t     = alpha * v_{t-1} + (1 - alpha) * grad_t^2       v_0 = 0
    w_{t+1} = w_t - eta * grad_t / (sqrt(v_t) + eps)

Every operation is element by element. The lectures call alpha beta, gamma or
decay_rate; it is ``group["alpha"]`` here, as in torch.optim.RMSprop. eta is
``group["lr"]``, eps is ``group["eps"]``, added outside the square root; keep
v_t in ``state``.

Check your work:  descentlab lab check rmsprop --path rmsprop.py
"""

import torch

from descentlab.optimizers import LectureOptimizer


class RMSprop(LectureOptimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    def init_state(self, param, group):
        """The state of one parameter before its first step (a dict)."""
        # TODO: return a dict holding v_0 = 0 (torch.zeros_like(param)).
        raise NotImplementedError("TODO: init_state")

    def update(self, param, grad, state, group):
        """One step of one parameter: change ``param`` in place (``param -= ...``)."""
        # TODO: v_t, then w_{t+1}.
        raise NotImplementedError("TODO: update")
