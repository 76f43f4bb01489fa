"""What every descentlab optimizer shares.

A subclass writes only two things, like a Keras 3 optimizer's ``build`` and
``update_step``:

* ``init_state(param, group)`` -> the state dict of one parameter, created
  lazily on its first step;
* ``update(param, grad, state, group)`` -> one in-place update of ``param``
  written as the lecture formula.

This class owns the rest: argument checks (``ValueError`` naming the
argument), param groups, lazy state, skipping parameters whose ``.grad`` is
None, ``maximize``, L2 weight decay (added to the gradient, as in lecture 001
"weight decay as L2") or decoupled weight decay (``p <- p - lr*wd*p`` before
the update, Loshchilov & Hutter), and closures.

The order of those operations is torch.optim's: the gradient is negated for
``maximize`` first, then the L2 term is added, so our numbers match theirs.
"""

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


def new_step_counter(param):
    return torch.tensor(0.0, dtype=scalar_step_dtype(), device=param.device)


def count_step(state):
    """Advance ``state['step']`` in place and return the new step number t as a float."""
    state["step"] += 1
    return state["step"].item()


class LectureOptimizer(torch.optim.Optimizer):
    """Base class of every descentlab optimizer (see the module docstring)."""

    def __init__(self, params, defaults):
        for name, value in defaults.items():
            if name in _CHECKS:
                _check_number(name, value, *_CHECKS[name])
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

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                state = self.state[param]
                if not state:
                    state.update(self.init_state(param, group))
                self.update(param, self.prepare_grad(param, group), state, group)
        return loss

    @staticmethod
    def prepare_grad(param, group):
        """Apply ``maximize`` and weight decay; return the gradient the update sees.

        L2 decay adds ``wd * p`` to the gradient; decoupled decay shrinks
        ``param`` in place (``p <- p * (1 - lr*wd)``) and leaves the gradient alone.
        """
        grad = -param.grad if group.get("maximize", False) else param.grad
        weight_decay = group.get("weight_decay", 0)
        if weight_decay != 0:
            if group.get("decoupled_weight_decay", False):
                param.mul_(1 - group["lr"] * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        return grad
