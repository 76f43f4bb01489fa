"""The lecture optimizers as ``torch.optim.Optimizer`` subclasses, and their registry;
``optimizers.schedules`` (learning-rate and momentum schedules) and
``optimizers.clipping`` (gradient clipping). ``LectureOptimizer`` (base.py) and
``ClosedForm`` (closed_form.py) are the base classes the lab exercises subclass."""

from . import clipping, schedules
from .adabelief import AdaBelief
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adainject import AdaInject
from .adam import Adam
from .adamw import AdamW
from .angulargrad import AngularGrad
from .base import LectureOptimizer
from .closed_form import ClosedForm
from .diffgrad import DiffGrad
from .linesearch import LineSearch
from .momentum import Momentum
from .nadam import NAdam
from .nesterov import Nesterov
from .radam import RAdam
from .registry import FAMILIES, REGISTRY, OptimInfo, available, create, defaults, families, info
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = [
    "AdaBelief", "Adadelta", "Adagrad", "AdaInject", "Adam", "AdamW", "AngularGrad", "DiffGrad",
    "ClosedForm", "LectureOptimizer", "LineSearch", "Momentum", "NAdam", "Nesterov", "RAdam", "RMSprop", "Rprop",
    "SGD", "clipping", "schedules", "FAMILIES", "REGISTRY", "OptimInfo", "available", "create", "defaults",
    "families", "info",
]
