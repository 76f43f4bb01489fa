"""Exercise: diffGrad, Adam with friction from the change of the gradient.

Lecture 004 (diffGrad; Dubey et al. 2019). Adam's moments, and a friction
coefficient xi that slows the step where the gradient hardly changes (near a
minimum) and lets it run where the gradient changes fast::

    t       = t + 1                                          t counts steps from 1
    m_t     = beta1 * m_{t-1} + (1 - beta1) * grad_t         m_0 = 0
    v_t     = beta2 * v_{t-1} + (1 - beta2) * grad_t^2       v_0 = 0
    xi_t    = AbsSig(grad_{t-1} - grad_t)                    grad_0 = 0
    AbsSig(x) = 1 / (1 + exp(-|x|))                          (torch.sigmoid(x.abs()))
    w_{t+1} = w_t - eta * sqrt(1 - beta2^t) / (1 - beta1^t) * xi_t * m_t / (sqrt(v_t) + eps)

The last line is the lecture's  eta * xi_t * m^_t / (sqrt(v^_t) + eps)  with
the two bias corrections moved into the step size, as in the authors' code
(and Kingma & Ba's "more efficient order of computation"): write it this way.
Every operation is element by element. ``group["betas"]`` is (beta1, beta2),
eta is ``group["lr"]``, eps is ``group["eps"]``. Keep t, m_t, v_t and the
previous gradient in ``state``.

Check your work:  descentlab lab check diffgrad --path diffgrad.py
"""

import torch

from descentlab.optimizers import LectureOptimizer


class DiffGrad(LectureOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def init_state(self, param, group):
        """The state of one parameter before its first step (a dict)."""
        # TODO: return a dict holding t = 0, m_0 = 0, v_0 = 0 and grad_0 = 0.
        raise NotImplementedError("TODO: init_state")

    def update(self, param, grad, state, group):
        """One step of one parameter: change ``param`` in place (``param -= ...``)."""
        # TODO: t, m_t, v_t, xi_t, w_{t+1}; then remember grad_t for the next step.
        raise NotImplementedError("TODO: update")
