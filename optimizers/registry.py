"""The optimizer registry: one frozen entry per name, read by ``create``, the
CLI, the docs and the table-driven tests (like timm's ``OptimInfo``)."""

import dataclasses
import difflib
import importlib.util
import inspect
import pathlib

import torch

from .adabelief import AdaBelief
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adainject import AdaInject
from .adam import Adam
from .adamw import AdamW
from .angulargrad import AngularGrad
from .diffgrad import DiffGrad
from .linesearch import LineSearch
from .momentum import Momentum
from .nadam import NAdam
from .nesterov import Nesterov
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD


def torch_counterpart(torch_name, lecture_only=None, **fixed):
    """How to build the torch.optim twin of an entry from its full hyperparameters
    (``defaults(name)`` updated with the overrides).

    ``lecture_only`` maps our extra options to the value at which torch agrees
    (e.g. ``eps_in_sqrt=False``); for any other value there is no twin (None).
    ``fixed`` are torch arguments implied by the entry (``nesterov=True``).
    """
    lecture_only = lecture_only or {}

    def build(hp):
        if any(hp.get(k, v) != v for k, v in lecture_only.items()):
            return None
        kwargs = {k: v for k, v in hp.items() if k not in lecture_only}
        return getattr(torch.optim, torch_name), {**kwargs, **fixed}

    build.torch_name = torch_name
    return build


# The lectures' families, in the order they are taught: gradient descent and its momentum
# (lecture 002 Modules 5.2-5.5), the per-weight adaptive rates (lecture 000 "Adaptive Learning
# Rates"), Adam and its direct descendants (lecture 000 Algorithm 1, lecture 002 Module 5.9),
# the recent variants of lecture 004, and line search (lecture 002 Module 5.8).
FAMILIES = {
    "sgd": "SGD family",
    "adaptive": "adaptive-rate family",
    "adam": "Adam family",
    "recent": "recent variants",
    "linesearch": "line search",
    "yours": "your optimizers",     # classes from a user's file (register_file)
}


@dataclasses.dataclass(frozen=True)
class OptimInfo:
    name: str
    cls: type
    reference: str
    description: str
    fixed: dict = dataclasses.field(default_factory=dict)  # arguments the name implies
    counterpart: object = None  # hp -> (torch class, kwargs) or None; see torch_counterpart
    variants: dict = dataclasses.field(default_factory=dict)  # option -> values the tests sweep
    needs_closure: bool = False
    family: str = ""   # a key of FAMILIES
    color: str = ""    # how every figure draws it: one colour and marker per optimizer,
    marker: str = ""   # distinct within its family (a matplotlib colour and marker)


_ENTRIES = [
    OptimInfo("sgd", SGD, "lecture 002 Module 5.2; lecture 000 (batch/stochastic/mini-batch GD)",
              "plain gradient descent, w -= lr*g (torch's momentum/nesterov options too)",
              counterpart=torch_counterpart("SGD"),
              variants={"momentum": (0, 0.9), "dampening": (0, 0.5), "nesterov": (False, True)},
              family="sgd", color="#000000", marker="o"),
    OptimInfo("momentum", Momentum, "lecture 002 Module 5.4; lecture 000 slide 24 (EMA form)",
              "heavy ball v = mu*v + g; ema=True: v = b*v + (1-b)*g",
              counterpart=torch_counterpart("SGD", lecture_only={"ema": False}),
              variants={"ema": (False, True)},
              family="sgd", color="#1f77b4", marker="s"),
    OptimInfo("nesterov", Nesterov, "lecture 002 Module 5.5 (NAG)",
              "Nesterov accelerated gradient: step from the look-ahead point",
              counterpart=torch_counterpart("SGD", nesterov=True),
              family="sgd", color="#d62728", marker="^"),
    OptimInfo("adagrad", Adagrad, "lecture 000 slides 27-28; lecture 002 (sparse data); Duchi et al. 2011",
              "per-weight lr eta/sqrt(sum of squared gradients)",
              counterpart=torch_counterpart("Adagrad", lecture_only={"eps_in_sqrt": False}),
              variants={"lr_decay": (0, 0.01), "initial_accumulator_value": (0, 0.1),
                        "eps_in_sqrt": (False, True)},
              family="adaptive", color="#2ca02c", marker="o"),
    OptimInfo("adadelta", Adadelta, "lecture 000 slide 30; lecture 001; Zeiler 2012",
              "AdaGrad with a window: ratio of RMS(update) to RMS(gradient)",
              counterpart=torch_counterpart("Adadelta"),
              family="adaptive", color="#9467bd", marker="s"),
    OptimInfo("rprop", Rprop, "lecture 000 slide 31; Riedmiller & Braun 1993",
              "per-weight step sizes grown/shrunk by the sign of the gradient (full batch)",
              counterpart=torch_counterpart("Rprop"),
              variants={"etas": ((0.5, 1.2), (0.3, 1.5))},
              family="adaptive", color="#8c564b", marker="D"),
    OptimInfo("rmsprop", RMSprop, "lecture 000 slide 32; lecture 002 Module 5.9; Hinton lecture 6e",
              "lr divided by an EMA of squared gradients",
              counterpart=torch_counterpart("RMSprop", lecture_only={"eps_in_sqrt": False}),
              variants={"momentum": (0, 0.9), "centered": (False, True), "eps_in_sqrt": (False, True)},
              family="adaptive", color="#ff7f0e", marker="^"),
    OptimInfo("adam", Adam, "lecture 000 Algorithm 1; lecture 002 Module 5.9; Kingma & Ba 2015",
              "momentum + RMSProp + bias correction",
              counterpart=torch_counterpart("Adam", lecture_only={"bias_correction": True,
                                                                  "eps_in_sqrt": False}),
              variants={"amsgrad": (False, True), "bias_correction": (True, False),
                        "eps_in_sqrt": (False, True), "decoupled_weight_decay": (False, True)},
              family="adam", color="#17becf", marker="o"),
    OptimInfo("adamw", AdamW, "Loshchilov & Hutter 2019; lecture 001 (weight decay)",
              "Adam with weight decay applied to the weights, not the gradient",
              counterpart=torch_counterpart("AdamW"), variants={"amsgrad": (False, True)},
              family="adam", color="#bcbd22", marker="s"),
    OptimInfo("amsgrad", Adam, "Reddi et al. 2018; lecture 004",
              "Adam whose second moment never decreases (max of past v)",
              fixed={"amsgrad": True},
              counterpart=torch_counterpart("Adam", lecture_only={"bias_correction": True,
                                                                  "eps_in_sqrt": False}),
              family="adam", color="#7f7f7f", marker="^"),
    OptimInfo("nadam", NAdam, "Dozat 2016; lecture 002 Module 5.5 (NAG) applied to Adam",
              "Adam with a Nesterov look-ahead on the momentum",
              counterpart=torch_counterpart("NAdam"),
              variants={"decoupled_weight_decay": (False, True), "momentum_decay": (4e-3, 0.1)},
              family="adam", color="#e7298a", marker="D"),
    OptimInfo("radam", RAdam, "Liu et al. 2020; lecture 004",
              "Adam with a rectified adaptive lr (momentum SGD while the variance is unreliable)",
              counterpart=torch_counterpart("RAdam"),
              variants={"decoupled_weight_decay": (False, True)},
              family="adam", color="#3b3bb3", marker="v"),
    OptimInfo("adabelief", AdaBelief, "Zhuang et al. 2020, Algorithm 2 (no rectification); lecture 004",
              "Adam dividing by the EMA of (g - m)^2, the belief in the gradient",
              variants={"decoupled_weight_decay": (False, True)},
              family="recent", color="#1b9e77", marker="o"),
    OptimInfo("diffgrad", DiffGrad, "Dubey et al. 2019 (shivram1987/diffGrad diffGrad_v2.py); lecture 004",
              "Adam with friction AbsSig(g_{t-1} - g_t) on the step",
              family="recent", color="#e6ab02", marker="s"),
    OptimInfo("angulargrad", AngularGrad, "Roy et al. 2021 (mhaut/AngularGrad); lecture 004",
              "Adam scaled by the angle between consecutive gradients (cos or tan)",
              variants={"method": ("cos", "tan")},
              family="recent", color="#e377c2", marker="^"),
    OptimInfo("adainject", AdaInject, "Dubey et al. 2022, AdamInject (shivram1987/AdaInject); lecture 004",
              "Adam with the second moment injected into the first, weighted by the last step",
              family="recent", color="#8b0000", marker="D"),
    OptimInfo("linesearch", LineSearch, "lecture 002 Module 5.8 (Khapra); Armijo backtracking",
              "try every lr along -g, keep the lowest loss (or backtrack to Armijo's condition)",
              variants={"method": ("grid", "armijo")}, needs_closure=True,
              family="linesearch", color="#b15928", marker="P"),
]

REGISTRY = {info.name: info for info in _ENTRIES}

# Optimizer classes from users' files (``register_file``), by the name they run under.
USER = {}
_USER_STYLES = (("#ff1493", "*"), ("#00a0a0", "X"), ("#6a3d9a", "p"), ("#a0522d", "h"))


def available():
    """Sorted registry names."""
    return sorted(REGISTRY)


def unknown_name(kind, name, names):
    """The ``ValueError`` for an unknown registry name, with a suggestion and the list."""
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ValueError(f"unknown {kind} '{name}'{hint} (available: {', '.join(sorted(names))})")


def info(name):
    """The registry entry of ``name`` (or of a class registered from a user's file);
    ``ValueError`` with a suggestion if unknown."""
    if name in USER:
        return USER[name]
    if name not in REGISTRY:
        raise unknown_name("optimizer", name, REGISTRY)
    return REGISTRY[name]


def load_class(reference):
    """The ``torch.optim.Optimizer`` subclass ``"FILE.py:Class"`` names, imported from that
    file; ``ValueError`` in one line when the file is missing, is not valid Python, has no
    such class, or the class is not an optimizer."""
    path, sep, class_name = str(reference).rpartition(":")
    if not sep or not path or not class_name.isidentifier():
        raise ValueError(f"optimizer file {reference!r}: write FILE.py:Class, e.g. adam.py:Adam")
    path = pathlib.Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"optimizer file {path} does not exist")
    if path.suffix != ".py":
        raise ValueError(f"optimizer file {path} is not a Python file (.py)")
    spec = importlib.util.spec_from_file_location(f"descentlab_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ValueError(f"optimizer file {path} is not valid Python: {exc.msg} (line {exc.lineno})") from None
    except Exception as exc:  # the user's module failed while importing: say what, in one line
        raise ValueError(f"optimizer file {path} does not import: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ValueError(f"optimizer file {path} has no class {class_name}")
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"{class_name} in {path} is not a torch.optim.Optimizer subclass")
    return cls


def class_reference(cls):
    """``"FILE.py:Class"`` of an optimizer class defined at the top level of a file, so that
    another process can import it; ``ValueError`` saying what to do for one defined in a
    notebook cell or the interpreter (no file to import it from)."""
    try:
        path = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        path = None
    if not path or "." in cls.__qualname__ or cls.__module__ == "__main__":
        raise ValueError(f"{cls.__qualname__} is defined in a notebook cell or the interpreter, so the "
                         "comparison's worker processes cannot import it: save it in a .py file (the lab's "
                         f"{cls.__name__.lower()}.py) and pass the class imported from there "
                         f"(from {cls.__name__.lower()} import {cls.__name__})")
    return f"{pathlib.Path(path).resolve()}:{cls.__name__}"


def user_name(class_name):
    """The name a user's class runs under: its name lower-cased, or ``student-<name>``
    when that is a registry name (a student's ``Adam`` runs beside our ``adam``)."""
    lower = class_name.lower()
    return f"student-{lower}" if lower in REGISTRY else lower


def register_file(reference, name=None):
    """Register the class ``"FILE.py:Class"`` (``load_class``) under ``name`` (default
    ``user_name``), so that ``info``, ``defaults`` and ``create`` know it in this process;
    returns the name. Its hyperparameters are its constructor's defaults."""
    cls = load_class(reference)
    path, _, class_name = str(reference).rpartition(":")
    reference = f"{pathlib.Path(path).resolve()}:{class_name}"
    name = name or user_name(class_name)
    if name in REGISTRY or (name in USER and USER[name].reference != reference):
        raise ValueError(f"two optimizers would run as '{name}' ({reference}): rename the class")
    color, marker = _USER_STYLES[len(USER) % len(_USER_STYLES)] if name not in USER else \
        (USER[name].color, USER[name].marker)
    USER[name] = OptimInfo(name, cls, reference, f"yours: {class_name} from {reference.rpartition(':')[0]}",
                           needs_closure=False, family="yours", color=color, marker=marker)
    return name



def families(names=None):
    """``{family title: [names]}`` in the lectures' order, registry order within a family,
    for ``names`` (default: every optimizer); families with none of them are left out."""
    names = set(REGISTRY if names is None else names)
    for name in names:
        info(name)
    entries = _ENTRIES + list(USER.values())
    grouped = {key: [e.name for e in entries if e.family == key and e.name in names] for key in FAMILIES}
    return {FAMILIES[key]: members for key, members in grouped.items() if members}


def constructor_defaults(cls):
    """The keyword arguments of ``cls(params, ...)`` that have defaults, with those defaults:
    the hyperparameters of any optimizer class, ours or a student's."""
    signature = inspect.signature(cls.__init__)
    return {p.name: p.default for p in signature.parameters.values()
            if p.default is not inspect.Parameter.empty}


def defaults(name):
    """The lecture/paper defaults ``create(name, ...)`` uses: the class
    signature's defaults plus the arguments the name implies."""
    entry = info(name)
    return {**constructor_defaults(entry.cls), **entry.fixed}


def create(name, params, **hp):
    """Build optimizer ``name`` over ``params`` with its defaults overridden by ``hp``."""
    entry = info(name)
    accepted = defaults(name)
    unknown = sorted(set(hp) - set(accepted))
    if unknown:
        raise ValueError(f"unknown hyperparameter {', '.join(map(repr, unknown))} for '{name}' "
                         f"(accepted: {', '.join(accepted)})")
    return entry.cls(params, **{**entry.fixed, **hp})
