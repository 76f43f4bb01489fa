"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019).

Lecture 001 treats weight decay as an L2 term added to the gradient; with
Adam that term is rescaled by 1 / sqrt(v^) and stops acting as decay. AdamW
shrinks the weights directly before the Adam step::

    w <- w - eta * lambda * w
    w <- Adam step of w with the raw gradient g_t

Same arguments (weight_decay defaults to 1e-2), numbers and state keys as
torch.optim.AdamW.
"""

from .adam import Adam


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
