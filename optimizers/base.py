"""What every descentlab optimizer shares.

A subclass writes only two things, like a Keras 3 optimizer's ``build`` and
``update_step``:

* ``init_state(param, group)`` -> the state dict of one parameter, created
  lazily on its first step;
* ``update(param, grad, state, group)`` -> one in-place update of ``param``
  written as the lecture formula.

A subclass may add a third, the fast path: ``update_group(params, grads,
states, group)`` -> the same update for a list of tensors at once, written
with torch's multi-tensor ``torch._foreach_*`` ops. The base then uses it
unless the group says ``foreach=False`` (a constructor argument, as in
torch.optim: None means "fast path"). ``tests/test_fast_path.py`` proves both
paths give the same parameters and state. ``update_group`` only counts when it
is defined by the class that defines ``update`` (or a subclass of it): a
subclass that rewrites ``update`` alone never inherits a fast path computing
its parent's formula.

Why chunks: a multi-tensor op over a whole group allocates every temporary at
once (one parameter-sized buffer per tensor), in fresh pages; on this CPU a
whole-group foreach Adam was 2-3x slower than per-tensor code, as torch's own
``foreach=True`` is slower than its for-loop on CPU (torch 2.13, Adam on 5M
parameters in 40 tensors: 22.9 ms against 14.3 ms). The base hands
``update_group`` chunks of about ``FAST_PATH_CHUNK_BYTES`` (64 KiB) of
parameters, so temporaries stay small and are reused by the allocator while
small tensors still share one call.

A subclass may also add ``update_fused(params, grads, states, group)``, used
when the group says ``fused=True`` (torch.optim's flag, for Adam, AdamW, SGD
and Adagrad): the whole group in one ``torch.compile``d kernel (see
``compiled``) that reads and writes each element once, like torch's fused CPU
kernels. It receives the raw ``.grad`` tensors and applies ``maximize`` and
weight decay itself (``decayed_grad``, the function the readable path uses),
so that they fuse too.

This class owns the rest: argument checks (``ValueError`` naming the
argument), param groups, lazy state, skipping parameters whose ``.grad`` is
None, ``maximize``, L2 weight decay (added to the gradient, as in lecture 001
"weight decay as L2") or decoupled weight decay (``p <- p - lr*wd*p`` before
the update, Loshchilov & Hutter), and closures.

The order of those operations is torch.optim's: the gradient is negated for
``maximize`` first, then the L2 term is added, so our numbers match theirs.
"""

import functools
import math

import torch

# Hyperparameters with the same meaning in every optimizer, checked wherever
# they appear in a group: name -> (test, what the value must be).
_CHECKS = {
    "lr": (lambda v: v >= 0, "a number >= 0"),
    "eps": (lambda v: v >= 0, "a number >= 0"),
    "weight_decay": (lambda v: v >= 0, "a number >= 0"),
    "momentum": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "dampening": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "rho": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "alpha": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "lr_decay": (lambda v: v >= 0, "a number >= 0"),
    "initial_accumulator_value": (lambda v: v >= 0, "a number >= 0"),
}


def check(name, value, ok, requirement):
    """Raise ``ValueError`` naming ``name`` unless ``ok``."""
    if not ok:
        raise ValueError(f"invalid {name}={value!r}: must be {requirement}")


def _check_number(name, value, test, requirement):
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    check(name, value, is_number and math.isfinite(value) and test(value), requirement)


def check_pair(name, value, test, requirement):
    """Check a 2-tuple hyperparameter such as ``betas`` element by element."""
    check(name, value, isinstance(value, (tuple, list)) and len(value) == 2, "a pair of numbers")
    for i, v in enumerate(value):
        _check_number(f"{name}[{i}]", v, test, requirement)


def scalar_step_dtype():
    """dtype of ``state['step']``, as torch.optim stores it (float32 unless the default is float64)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def zeros(param):
    """A zero buffer shaped like ``param`` (every moving average and buffer starts at zero)."""
    return torch.zeros_like(param, memory_format=torch.preserve_format)


def new_step_counter(param):
    return torch.tensor(0.0, dtype=scalar_step_dtype(), device=param.device)


def count_step(state):
    """Advance ``state['step']`` in place and return the new step number t as a float."""
    state["step"] += 1
    return state["step"].item()


def count_steps(states):
    """``count_step`` for a list of states: one multi-tensor add, one read.

    The counters stay 0-d float tensors, as torch.optim keeps them (state_dict
    parity); reading them one ``.item()`` at a time would cost a call per
    tensor per step, so they are stacked and read in one go.
    """
    steps = [state["step"] for state in states]
    if len(steps) == 1:  # a large tensor alone in its chunk: skip the stack
        return [count_step(states[0])]
    torch._foreach_add_(steps, 1)
    return torch.stack(steps).tolist()


# Best-of times of Adam on 5M parameters in 40 tensors, two loaded runs: 64 KiB
# chunks ~25% faster than 1 MiB, whole groups 2-3x slower (module docstring).
FAST_PATH_CHUNK_BYTES = 1 << 16


def _chunks(params):
    """Split ``params`` into consecutive index ranges of about ``FAST_PATH_CHUNK_BYTES``."""
    start, size = 0, 0
    for i, param in enumerate(params):
        size += param.numel() * param.element_size()
        if size >= FAST_PATH_CHUNK_BYTES:
            yield slice(start, i + 1)
            start, size = i + 1, 0
    if start < len(params):
        yield slice(start, len(params))


@functools.cache
def compiled(kernel):
    """``torch.compile(kernel)``, built once per process and kernel.

    The first call of each new set of shapes/flags compiles (seconds, once);
    inductor keeps the generated code in its on-disk cache, so later processes
    pay much less. Scalars that change from step to step (learning rate, bias
    corrections) must reach the kernel as tensors: Python floats are baked
    into the compiled code and would force a recompile on every change.
    """
    # dynamic=False: one kernel specialised to each model's shapes (sizes are
    # compile-time constants). Left to itself, torch.compile turns shapes
    # symbolic once it has seen two sets, also across processes through its
    # on-disk profile, so the kernel a model gets would depend on history.
    return torch.compile(kernel, fullgraph=True, dynamic=False)


def decayed_grad(param, grad, *, maximize, weight_decay, decoupled, shrink):
    """The gradient the update sees, in torch.optim's order: negated for
    ``maximize``, then L2 decay adds ``wd * p`` to it (lecture 001, "weight
    decay as L2"), or decoupled decay shrinks ``param`` in place
    (``p <- p * shrink`` with shrink = 1 - lr * wd, Loshchilov & Hutter) and
    leaves it alone. Used by the readable path and inside the compiled fused
    kernels (``shrink`` may be a tensor there); ``grad`` is never changed.
    """
    grad = -grad if maximize else grad
    if weight_decay != 0 and decoupled:
        param.mul_(shrink)
    elif weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    return grad


def _defined_by(cls, name):
    return next((k for k in cls.__mro__ if name in vars(k)), None)


class LectureOptimizer(torch.optim.Optimizer):
    """Base class of every descentlab optimizer (see the module docstring)."""

    def __init__(self, params, defaults):
        for name, value in defaults.items():
            if name in _CHECKS:
                _check_number(name, value, *_CHECKS[name])
        if defaults.get("fused") and defaults.get("foreach"):
            raise ValueError("invalid fused=True with foreach=True: choose one")
        if "betas" in defaults:
            check_pair("betas", defaults["betas"], lambda v: 0 <= v < 1, "in [0, 1)")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        # A state_dict saved by torch.optim replaces our groups with its own;
        # fill in the options it does not know (eps_in_sqrt, ema, ...).
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self.defaults.items():
                group.setdefault(key, value)

    def init_state(self, param, group):
        """Return the initial state of ``param`` (empty by default)."""
        return {}

    def update(self, param, grad, state, group):
        raise NotImplementedError

    @classmethod
    def has_fast_path(cls):
        """True when ``update_group`` computes this class's own ``update``."""
        fast = _defined_by(cls, "update_group")
        return fast is not None and issubclass(fast, _defined_by(cls, "update"))

    @classmethod
    def has_fused_path(cls):
        """True when ``update_fused`` computes this class's own ``update``."""
        fused = _defined_by(cls, "update_fused")
        return fused is not None and issubclass(fused, _defined_by(cls, "update"))

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        fast, fused = self.has_fast_path(), self.has_fused_path()
        for group in self.param_groups:
            params, states = self._live(group)
            if not params:
                continue
            if fused and group.get("fused"):
                self.update_fused(params, [param.grad for param in params], states, group)
            elif fast and group.get("foreach") is not False:
                for part in _chunks(params):
                    grads = self.prepare_grads(params[part], group)
                    self.update_group(params[part], grads, states[part], group)
            else:
                for param, state in zip(params, states):
                    self.update(param, self.prepare_grad(param, group), state, group)
        return loss

    def _live(self, group):
        """The group's parameters that have a gradient, and their (lazily created) states."""
        params = [param for param in group["params"] if param.grad is not None]
        states = []
        for param in params:
            if param.grad.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            state = self.state[param]
            if not state:
                state.update(self.init_state(param, group))
            states.append(state)
        return params, states

    @staticmethod
    def prepare_grad(param, group):
        """``decayed_grad`` of ``param.grad`` with the group's options."""
        weight_decay = group.get("weight_decay", 0)
        return decayed_grad(param, param.grad, maximize=group.get("maximize", False),
                            weight_decay=weight_decay,
                            decoupled=group.get("decoupled_weight_decay", False),
                            shrink=1 - group.get("lr", 0) * weight_decay)

    @staticmethod
    def prepare_grads(params, group):
        """``prepare_grad`` for a list of parameters, with multi-tensor ops.

        The gradient is copied at most once (for ``maximize`` or L2 decay), so
        the ``.grad`` tensors are never changed.
        """
        grads = [param.grad for param in params]
        maximize = group.get("maximize", False)
        if maximize:
            grads = torch._foreach_neg(grads)
        weight_decay = group.get("weight_decay", 0)
        if weight_decay != 0:
            if group.get("decoupled_weight_decay", False):
                torch._foreach_mul_(params, 1 - group["lr"] * weight_decay)
            elif maximize:
                torch._foreach_add_(grads, params, alpha=weight_decay)
            else:
                grads = torch._foreach_add(grads, params, alpha=weight_decay)
        return grads
