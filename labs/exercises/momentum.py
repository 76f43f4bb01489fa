"""Exercise: gradient descent with momentum.

Lecture 002, Module 5.4 (momentum-based gradient descent)::

    update_t = gamma * update_{t-1} + eta * grad_t          update_0 = 0
    w_{t+1}  = w_t - update_t

Here gamma is ``group["momentum"]`` and eta is ``group["lr"]``. The history
of updates is this parameter's state: it must survive from one step to the
next, so keep it in ``state``.

Check your work:  descentlab lab check momentum --path momentum.py
"""

import torch

from descentlab.optimizers import LectureOptimizer


class Momentum(LectureOptimizer):
    def __init__(self, params, lr=1e-2, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def init_state(self, param, group):
        """The state of one parameter before its first step (a dict)."""
        # TODO: return a dict holding update_0 = 0, a tensor of zeros shaped like param
        #       (torch.zeros_like(param)).
        raise NotImplementedError("TODO: init_state")

    def update(self, param, grad, state, group):
        """One step of one parameter: change ``param`` in place (``param -= ...``)."""
        # TODO: update_t from state and grad; store it in state; then w_{t+1}.
        raise NotImplementedError("TODO: update")
