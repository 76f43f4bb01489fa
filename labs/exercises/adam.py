"""Exercise: Adam, momentum plus RMSProp plus bias correction.

Lecture 000 (Adam, Algorithm 1 of Kingma & Ba), lecture 002 Module 5.9 (why
bias correction), lecture 004 (Adam with bias correction)::

    t       = t + 1                                          t counts steps from 1
    m_t     = beta1 * m_{t-1} + (1 - beta1) * grad_t         m_0 = 0
    v_t     = beta2 * v_{t-1} + (1 - beta2) * grad_t^2       v_0 = 0
    m^_t    = m_t / (1 - beta1^t)
    v^_t    = v_t / (1 - beta2^t)
    w_{t+1} = w_t - eta * m^_t / (sqrt(v^_t) + eps)

Every operation is element by element. ``group["betas"]`` is the pair
(beta1, beta2), eta is ``group["lr"]``, eps is ``group["eps"]``, added outside
the square root. Keep t, m_t and v_t in ``state``.

Check your work:  descentlab lab check adam --path adam.py
"""

import torch

from descentlab.optimizers import LectureOptimizer


class Adam(LectureOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def init_state(self, param, group):
        """The state of one parameter before its first step (a dict)."""
        # TODO: return a dict holding t = 0, m_0 = 0 and v_0 = 0 (torch.zeros_like(param)).
        raise NotImplementedError("TODO: init_state")

    def update(self, param, grad, state, group):
        """One step of one parameter: change ``param`` in place (``param -= ...``)."""
        # TODO: t, m_t, v_t, the bias-corrected m^_t and v^_t, then w_{t+1}.
        raise NotImplementedError("TODO: update")
