"""The fused path (``fused=True``): one ``torch.compile``d kernel per optimizer
step that reads and writes each element once, like torch's fused CPU kernels.

A kernel is a plain function over lists of tensors (``_adam_kernel`` in
adam.py, ``_sgd_kernel`` in sgd.py, ``_adagrad_kernel`` in adagrad.py). Every
number, and every option that can be written as one (maximize as a sign,
weight decay as an L2 factor and a shrink factor, nesterov or eps_in_sqrt
as a choice between two values), reaches it in a float64 tensor: a Python
value would be baked into the compiled code and force a recompile whenever
it changed. Multiplying by 1 and adding 0 are exact, so these kernels give
the numbers of the branches they replace. Only what changes the kernel's
structure (a momentum buffer or not, AMSGrad's maximum or not) is seen by the
compiler, as a None list.

Recompiles are bounded. The compiled code is specialised to the shapes,
strides and dtypes of the tensors it gets (``dynamic=False``: every model
gets the same kernel whatever ran before it in the process), so torch's
recompile limit (8 per code object) is never reached: each kernel compiles
for at most ``SHAPE_BUDGET`` sets of tensors. A group whose tensors
would need one more compile (many param groups of different shapes, e.g.
layer-wise learning rates, or the set of parameters with gradients changing
again and again) takes the multi-tensor fast path instead, which gives the
same numbers, after a one-time warning. The first step of each new set of
tensors compiles: seconds, once per process (``benchmarks/optimizer_step.py``
reports it as ``fused_compile_seconds``).
"""

import functools
import warnings

import torch

SHAPE_BUDGET = 6   # below torch._dynamo.config.recompile_limit (8)

_signatures = {}   # kernel -> the tensor signatures compiled so far
_warned = set()    # kernels whose fallback has been announced


def decay_coefficients(group):
    """[sign, l2, shrink] of ``kernel_grad`` for a group's options."""
    weight_decay = group.get("weight_decay", 0)
    decoupled = group.get("decoupled_weight_decay", False)
    return [-1.0 if group.get("maximize") else 1.0, 0.0 if decoupled else weight_decay,
            1 - group["lr"] * weight_decay if decoupled else 1.0]


def kernel_grad(param, grad, sign, l2, shrink):
    """Inside a kernel, the gradient the update sees (``prepare_grad`` of base.py with its
    options as numbers): sign = -1 for maximize, l2 = wd for L2 decay (else 0),
    shrink = 1 - lr * wd for decoupled decay (else 1), applied to ``param``."""
    param.mul_(shrink)
    return grad * sign + l2 * param


@functools.cache
def _compiled(kernel):
    return torch.compile(kernel, fullgraph=True, dynamic=False)


def _signature(tensor_lists):
    return tuple(None if tensors is None else
                 tuple((t.shape, t.stride(), t.dtype, t.device, t.requires_grad) for t in tensors)
                 for tensors in tensor_lists)


def kernel_for(kernel, *tensor_lists):
    """The compiled ``kernel`` for these tensor lists, or None when that would
    be one compile more than ``SHAPE_BUDGET`` (the caller then takes the fast
    path; the first time, with a warning)."""
    seen = _signatures.setdefault(kernel, set())
    signature = _signature(tensor_lists)
    if signature not in seen:
        if len(seen) >= SHAPE_BUDGET:
            if kernel not in _warned:
                _warned.add(kernel)
                warnings.warn(f"fused=True: {kernel.__name__} was compiled for {SHAPE_BUDGET} sets of "
                              "parameter shapes already; further param groups or sets of parameters with "
                              "gradients take the multi-tensor (foreach) path, same numbers",
                              RuntimeWarning, stacklevel=5)
            return None
        seen.add(signature)
    return _compiled(kernel)
