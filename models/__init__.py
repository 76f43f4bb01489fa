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
"""

import difflib
import inspect

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
    params = list(inspect.signature(_model_class(name)).parameters.values())[2:]
    return {p.name: p.default for p in params}


def create(name, input_shape, num_classes, seed=0, **kw):
    """A new ``torch.nn.Module``, initialised from ``seed``.

    ``ValueError`` for an unknown name (with a suggestion), an unknown option,
    or an input shape / class count the model cannot take.
    """
    cls = _model_class(name)
    input_shape = tuple(input_shape)
    if not input_shape or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(f"model '{name}': input shape must be positive sizes, got {input_shape}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"model '{name}': num_classes must be a positive integer, got {num_classes!r}")
    unknown = sorted(set(kw) - set(options(name)))
    if unknown:
        accepted = ", ".join(options(name)) or "none"
        raise ValueError(f"model '{name}' has no option {', '.join(map(repr, unknown))} (options: {accepted})")
    # A private random stream: the same seed gives the same weights whatever
    # ran before, and the caller's global RNG state is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(input_shape, num_classes, **kw)


def _model_class(name):
    if name not in REGISTRY:
        close = difflib.get_close_matches(str(name), REGISTRY, n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(f"unknown model '{name}'; {guess}(available: {', '.join(available())})")
    return REGISTRY[name]
