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
once (one parameter-sized buffer per tensor), in fresh pages, which on a CPU
costs more than the arithmetic saves (torch's own ``foreach=True`` is slower
than its for-loop there). The base hands ``update_group`` chunks of about
``FAST_PATH_CHUNK_BYTES`` (64 KiB) of parameters, so temporaries stay small and
are reused by the allocator while small tensors still share one call.
``benchmarks/optimizer_step.py`` measures the paths against torch's
(benchmarks/README.md has the numbers and what was tried).

A subclass may also add ``update_fused(params, grads, states, group)``, used
when the group says ``fused=True`` (torch.optim's flag, for Adam, AdamW, SGD
and Adagrad): the whole group in one ``torch.compile``d kernel (fused.py)
that reads and writes each element once, like torch's fused CPU kernels. It
receives the raw ``.grad`` tensors and applies ``maximize`` and weight decay
itself (``fused.kernel_grad``, ``prepare_grad`` with numbers for options), so
that they fuse too. It returns False, before changing anything, when fused.py refuses
one more compile; the group then takes the fast path.

This class owns the rest: argument checks (``ValueError`` naming the
argument), param groups, lazy state, skipping parameters whose ``.grad`` is
None, ``maximize``, L2 weight decay (added to the gradient, as in lecture 001
"weight decay as L2") or decoupled weight decay (``p <- p - lr*wd*p`` before
the update, Loshchilov & Hutter), and closures.

The order of those operations is torch.optim's: the gradient is negated for
``maximize`` first, then the L2 term is added, so our numbers match theirs.

What makes a subclass a drop-in for its torch.optim twin, also owned here:

* a 1-element tensor is accepted wherever a number is (``lr=torch.tensor(0.01)``);
  the update reads its value at each step;
* complex parameters: each complex tensor, its gradient and its complex state
  are created and updated through their real views (``torch.view_as_real``),
  as torch does: a complex number counts as two reals (Rprop's first step
  size is lr + lr*i) and the state stays complex;
* sparse gradients (``nn.Embedding(sparse=True)``) for classes that set
  ``supports_sparse`` (SGD, Adagrad); their groups take the readable path;
* ``differentiable=True``: the step runs with autograd on and on the readable
  path, so the update is differentiable through the parameters (torch's
  meaning; torch's errors for ``fused`` or ``foreach=True`` with it);
* ``capturable=True``: torch's AssertionError on a device without CUDA-graph
  support (the CPU), at the first step, as torch;
* a ``step`` (or NAdam ``mu_product``) saved as a Python number by old torch
  versions becomes a tensor on load.
"""

import math
import warnings

import torch
# torch's own checks, so that ours fail where and as torch's do
from torch.optim.optimizer import _device_dtype_check_for_fused, _get_capturable_supported_devices

# Hyperparameters with the same meaning in every optimizer, checked wherever
# they appear in a group: name -> (test, what the value must be).
_CHECKS = {
    "lr": (lambda v: v >= 0, "a number >= 0"),
    "eps": (lambda v: v >= 0, "a number >= 0"),
    "weight_decay": (lambda v: v >= 0, "a number >= 0"),
    "momentum": (lambda v: v >= 0, "a number >= 0"),
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
    if torch.is_tensor(value):
        check(name, value, value.numel() == 1, "a number or a 1-element tensor")
        value = value.item()
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    check(name, value, is_number and math.isfinite(value) and test(value), requirement)


def value_of(x):
    """A hyperparameter as a Python number (a 1-element tensor gives its value)."""
    return x.item() if torch.is_tensor(x) else x


def _plain(group):
    """``group`` itself, or a copy in which 1-element tensor hyperparameters
    (``lr``, ``betas``, ...) are numbers: the updates read them as numbers."""
    numbers = {}
    for key, value in group.items():
        if torch.is_tensor(value):
            numbers[key] = value.item()
        elif isinstance(value, tuple) and any(torch.is_tensor(v) for v in value):
            numbers[key] = tuple(map(value_of, value))
    return {**group, **numbers} if numbers else group


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


# Small enough for a chunk's temporaries to be reused, large enough to batch small
# tensors (module docstring; benchmarks/README.md compares 64 KiB, 1 MiB and whole groups).
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


def _defined_by(cls, name):
    return next((k for k in cls.__mro__ if name in vars(k)), None)


class LectureOptimizer(torch.optim.Optimizer):
    """Base class of every descentlab optimizer: a ``torch.optim.Optimizer`` whose
    subclasses write their state (``init_state``) and their update as the lecture
    formula (``update``), and may add a fast and a fused path (optimizers/base.py's
    module docstring says how).

    The options below mean the same in every subclass that takes them, with
    torch.optim's meaning and defaults:

    * ``weight_decay`` lambda (default 0): L2 decay, lambda * w_t added to the
      gradient (lecture 001, "weight decay as L2"); where the class takes
      ``decoupled_weight_decay=True`` (AdamW always), the weights shrink instead,
      w <- w - eta * lambda * w, before the update (Loshchilov & Hutter 2019);
    * ``maximize`` (default False): step along +g, to maximise the objective;
    * ``foreach`` (default None): None or True takes the multi-tensor fast path
      (``update_group``) where the class has one, False the readable ``update``;
    * ``fused`` (default None; SGD, Adagrad, Adam, AdamW): True runs the whole
      group in one ``torch.compile``d kernel (fused.py), with the numbers of
      the readable path;
    * ``differentiable`` (default False): the step runs under autograd, on the
      readable path, so gradients flow through the update to the parameters;
    * ``capturable`` (default False): accepted as torch accepts it; on a device
      without CUDA graphs (the CPU) the first step raises torch's AssertionError.
    """

    supports_sparse = False   # True: sparse gradients allowed (readable path)

    def __init__(self, params, defaults):
        for name, value in defaults.items():
            if name in _CHECKS:
                _check_number(name, value, *_CHECKS[name])
        if value_of(defaults.get("momentum", 0)) >= 1:
            warnings.warn(f"momentum={value_of(defaults['momentum'])} >= 1: the momentum buffer grows "
                          "without bound (lecture 002, Module 5.4 takes mu < 1)", UserWarning, stacklevel=3)
        if "betas" in defaults:
            check_pair("betas", tuple(map(value_of, defaults["betas"])), lambda v: 0 <= v < 1, "in [0, 1)")
        if defaults.get("fused"):
            if defaults.get("differentiable"):
                raise RuntimeError("`fused` does not support `differentiable`")
            if defaults.get("foreach"):
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        # A state_dict saved by torch.optim replaces our groups with its own;
        # fill in the options it does not know (eps_in_sqrt, ema, ...).
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self.defaults.items():
                group.setdefault(key, value)
        # Counters saved as Python numbers (torch before 1.12) become tensors.
        for param_state in self.state.values():
            for key in ("step", "mu_product"):
                if key in param_state and not torch.is_tensor(param_state[key]):
                    param_state[key] = torch.tensor(float(param_state[key]), dtype=scalar_step_dtype())

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

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.set_grad_enabled(bool(self.defaults.get("differentiable"))):
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        hp = _plain(group)
        params, states = self._live(hp)
        if not params:
            return
        sparse = any(param.grad.is_sparse for param in params)
        if group.get("fused") and self.has_fused_path():
            if sparse:
                raise RuntimeError("`fused` does not support sparse gradients")
            if self.update_fused(params, [param.grad for param in params], states, hp) is not False:
                return
        if group.get("differentiable") and group.get("foreach"):
            raise AssertionError("_foreach ops don't support autograd")
        complex_views = any(param.is_complex() for param in params)
        if (self.has_fast_path() and group.get("foreach") is not False and not sparse
                and not group.get("differentiable")):
            for part in _chunks(params):
                grads = self.prepare_grads(params[part], hp)
                if complex_views:
                    views = [_real_state(state) for state in states[part]]
                    self.update_group([_real(p) for p in params[part]], [_real(g) for g in grads], views, hp)
                    for param, state, view in zip(params[part], states[part], views):
                        _keep_new_state(param, state, view)
                else:
                    self.update_group(params[part], grads, states[part], hp)
            return
        for param, state in zip(params, states):
            grad = self.prepare_grad(param, hp)
            if param.is_complex():
                view = _real_state(state)
                self.update(_real(param), _real(grad), view, hp)
                _keep_new_state(param, state, view)
            else:
                self.update(param, grad, state, hp)

    def _live(self, group):
        """The group's parameters that have a gradient, and their (lazily created) states."""
        params = [param for param in group["params"] if param.grad is not None]
        states = []
        for param in params:
            if param.grad.is_sparse and not self.supports_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            if group.get("capturable") and param.device.type not in _get_capturable_supported_devices():
                raise AssertionError("If capturable=True, params and state_steps must be on supported "
                                     f"devices: {_get_capturable_supported_devices()}.")
            state = self.state.get(param)
            if not state:
                if group.get("fused"):   # floating point on a device with fused kernels
                    _device_dtype_check_for_fused(param)
                state = _as_complex(param, self.init_state(_real(param), group))
                if state:   # no entry for a stateless update (SGD without momentum), as torch
                    self.state[param] = state
            states.append(state)
        return params, states

    @staticmethod
    def prepare_grad(param, group):
        """The gradient the update sees, in torch.optim's order: negated for
        ``maximize``, then L2 decay adds ``wd * p`` to it (lecture 001, "weight
        decay as L2"), or decoupled decay shrinks ``param`` in place
        (``p <- p * (1 - lr * wd)``, Loshchilov & Hutter) and leaves it alone.
        ``.grad`` is never changed. (The fused kernels write the same with
        numbers for options: fused.kernel_grad.)
        """
        grad = -param.grad if group.get("maximize", False) else param.grad
        weight_decay = group.get("weight_decay", 0)
        if weight_decay != 0:
            if group.get("decoupled_weight_decay", False):
                param.mul_(1 - group["lr"] * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        return grad

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


def _real(tensor):
    return torch.view_as_real(tensor) if tensor.is_complex() else tensor


def _real_state(state):
    """The state as the update of a complex parameter's real view sees it."""
    return {key: _real(value) if torch.is_tensor(value) else value for key, value in state.items()}


def _as_complex(param, state):
    """``state`` of a complex parameter's real view as the parameter's own:
    the tensors shaped like the real view become complex again."""
    if not param.is_complex():
        return state
    shape = _real(param).shape
    return {key: torch.view_as_complex(value) if torch.is_tensor(value) and value.shape == shape else value
            for key, value in state.items()}


def _keep_new_state(param, state, view):
    """Store the entries an update set in ``view`` (SGD's first momentum
    buffer) in ``state``."""
    for key, value in _as_complex(param, view).items():
        if state.get(key) is None:
            state[key] = value
