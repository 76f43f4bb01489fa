"""The model zoo: ``models.create(name, input_shape, num_classes, **kw)``.

| name | file | what | options |
|---|---|---|---|
| neuron | neuron.py | the lecture's sigmoid neuron σ(w·x + b), output in (0, 1) | num_classes must be 1 |
| logreg | logreg.py | one linear layer on the flattened input | |
| mlp | mlp.py | Linear + ReLU layers | ``hidden=(128,)`` |
| cnn | cnn.py | two conv + two fc layers | ``variant="default"`` or ``"fmnist_2c2d"`` (DeepOBS) |
| lenet | lenet.py | small LeNet-5-like CNN | |

Every model maps ``x`` [N, *input_shape] to [N, num_classes] (logits; the
neuron's sigmoid output), has no data-dependent control flow, and exports to
ONNX with a dynamic batch axis. ``input_shape`` and ``num_classes`` come from
the dataset (``Dataset.input_shape``, ``Dataset.num_classes``).

Initialisation is deterministic: the weights depend only on ``seed`` (default
0), never on the global random state, which is left as it was. That is what
lets ``compare`` start every optimizer from the same weights.

A user's own model. Wherever a model name is taken (``create``, ``descentlab
train/compare --model``, a checkpoint), ``"package.module:factory"`` names a
function ``factory(input_shape, num_classes, seed, **options) -> nn.Module``
instead; it is imported when needed (from the working directory too, after
every installed package, so it can never replace one of ours) and called under
the same private random stream as the zoo's models. ``reference(function)``
gives that name for a module-level function.
"""

import difflib
import importlib
import inspect
import os
import sys

import torch

from descentlab.models.cnn import CNN
from descentlab.models.lenet import LeNet
from descentlab.models.logreg import LogReg
from descentlab.models.mlp import MLP
from descentlab.models.neuron import Neuron

REGISTRY = {"neuron": Neuron, "logreg": LogReg, "mlp": MLP, "cnn": CNN, "lenet": LeNet}


def available():
    """The registry names, sorted."""
    return sorted(REGISTRY)


def options(name):
    """The keyword options of model ``name`` and their defaults, e.g. ``{"hidden": (128,)}``."""
    if is_factory(name):  # factory(input_shape, num_classes, seed, **options)
        params = list(inspect.signature(factory(name)).parameters.values())[3:]
    else:
        params = list(inspect.signature(_model_class(name)).parameters.values())[2:]
    return {p.name: p.default for p in params if p.kind is not p.VAR_KEYWORD}


def is_factory(name):
    """``True`` for a ``"package.module:factory"`` name, ``False`` for a zoo name."""
    return isinstance(name, str) and ":" in name


def factory(name):
    """The function a ``"package.module:factory"`` name refers to; ``ValueError`` when it cannot be found."""
    module_name, _, attribute = name.partition(":")
    try:
        module = _import_user_module(module_name)
    except ImportError as exc:
        raise ValueError(f"model '{name}': cannot import '{module_name}' ({exc}); run from the directory "
                         "that holds it, or put it on PYTHONPATH") from None
    found = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
    if not callable(found):
        raise ValueError(f"model '{name}': '{module_name}' has no function '{attribute}'")
    return found


def reference(function):
    """``"module:qualname"`` of a module-level function, checked to lead back to it."""
    name = f"{getattr(function, '__module__', None)}:{getattr(function, '__qualname__', '')}"
    if "<" in name or not callable(function) or factory(name) is not function:
        raise ValueError(f"a model factory must be a function defined at the top level of a module, "
                         f"got {function!r}")
    return name


def _takes_any_option(build):
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(build).parameters.values())


def _import_user_module(module_name):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name.split(".")[0] or os.getcwd() in sys.path:
            raise
    # The console script does not put the working directory on sys.path the
    # way `python -m` does: append it, after every installed package.
    sys.path.append(os.getcwd())
    return importlib.import_module(module_name)


def create(name, input_shape, num_classes, seed=0, **kw):
    """A new ``torch.nn.Module``, initialised from ``seed``.

    ``ValueError`` for an unknown name (with a suggestion), an unknown option,
    or an input shape / class count the model cannot take.
    """
    build = factory(name) if is_factory(name) else _model_class(name)
    input_shape = tuple(input_shape)
    if not input_shape or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(f"model '{name}': input shape must be positive sizes, got {input_shape}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"model '{name}': num_classes must be a positive integer, got {num_classes!r}")
    unknown = sorted(set(kw) - set(options(name)))
    if unknown and not _takes_any_option(build):
        accepted = ", ".join(options(name)) or "none"
        raise ValueError(f"model '{name}' has no option {', '.join(map(repr, unknown))} (options: {accepted})")
    # A private random stream: the same seed gives the same weights whatever
    # ran before, and the caller's global RNG state is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not is_factory(name):
            return build(input_shape, num_classes, **kw)
        model = build(input_shape, num_classes, seed, **kw)
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model '{name}' returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _model_class(name):
    if name not in REGISTRY:
        close = difflib.get_close_matches(str(name), REGISTRY, n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(f"unknown model '{name}'; {guess}(available: {', '.join(available())})")
    return REGISTRY[name]
