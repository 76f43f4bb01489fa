"""AdamW: ``Adam`` with decoupled weight decay always on."""

from .adam import Adam


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    Lecture 001 treats weight decay as an L2 term added to the gradient; with
    Adam that term is rescaled by 1 / sqrt(v^_t) and stops acting as decay.
    AdamW shrinks the weights directly, then takes the Adam step (``Adam``) with
    the raw gradient g_t::

        w'_t    = w_t - eta * lambda * w_t
        w_{t+1} = w'_t - eta * m^_t / (sqrt(v^_t) + eps)

    Args:
        params (iterable): the parameters to optimize, or dicts defining param groups
        lr (float, default 1e-3): the learning rate eta
        betas ((float, float), default (0.9, 0.999)): beta1 of m_t, beta2 of v_t
        eps (float, default 1e-8): added to sqrt(v^_t)
        weight_decay (float, default 1e-2): lambda, applied to the weights
        amsgrad (bool, default False): divide by the running maximum of v_t
        maximize, foreach, capturable, differentiable, fused: torch.optim's
            options, defaults False, None, False, False, None (``LectureOptimizer``)

    Versus torch.optim.AdamW: the same arguments (weight_decay defaults to
    1e-2), numbers and state keys; it is ``Adam(decoupled_weight_decay=True)``,
    as torch's AdamW is torch's Adam with that flag.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
