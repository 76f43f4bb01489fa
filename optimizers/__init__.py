"""The lecture optimizers as ``torch.optim.Optimizer`` subclasses, and their registry."""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .base import LectureOptimizer
from .momentum import Momentum
from .nesterov import Nesterov
from .registry import REGISTRY, OptimInfo, available, create, defaults, info
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = [
    "Adadelta", "Adagrad", "Adam", "AdamW", "LectureOptimizer", "Momentum", "Nesterov",
    "RMSprop", "Rprop", "SGD", "REGISTRY", "OptimInfo", "available", "create", "defaults", "info",
]
