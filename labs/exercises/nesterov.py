"""Exercise: Nesterov accelerated gradient (NAG).

Lecture 002, Module 5.5 ("look before you leap")::

    w_lookahead = w_t - gamma * update_{t-1}
    update_t    = gamma * update_{t-1} + eta * grad L(w_lookahead)
    w_{t+1}     = w_t - update_t

An optimizer only ever sees the gradient at the parameters it holds. So let
the parameters hold the look-ahead point itself, w~_t = w_t - gamma * update_{t-1}:
then grad is grad L(w~_t), and substituting into the two lines above gives the
step from one look-ahead point to the next::

    update_t = gamma * update_{t-1} + eta * grad_t          update_0 = 0
    w~_{t+1} = w~_t - (gamma * update_t + eta * grad_t)

Write this form (the same numbers as torch.optim.SGD(nesterov=True)). Here
gamma is ``group["momentum"]`` and eta is ``group["lr"]``; keep update_t in
``state``.

Check your work:  descentlab lab check nesterov --path nesterov.py
"""

import torch

from descentlab.optimizers import LectureOptimizer


class Nesterov(LectureOptimizer):
    def __init__(self, params, lr=1e-2, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def init_state(self, param, group):
        """The state of one parameter before its first step (a dict)."""
        # TODO: return a dict holding update_0 = 0 (torch.zeros_like(param)).
        raise NotImplementedError("TODO: init_state")

    def update(self, param, grad, state, group):
        """One step of one parameter: change ``param`` in place (``param -= ...``)."""
        # TODO: update_t, then the step to the next look-ahead point.
        raise NotImplementedError("TODO: update")
