"""Learning-rate schedules (torch LRScheduler subclasses) and Sutskever et al.'s momentum
schedule, with a registry like the optimizers' one.

With lr_0 the learning rate each param group had when the schedule was made
and t the number of ``step()`` calls so far (epochs)::

    constant       lr_t = lr_0
    step           lr_t = lr_0 * gamma^floor(t / step_size)       lecture 001 (gamma every K steps);
                                                                 lecture 002 Module 5.7 (halve every 5 epochs)
    exponential    lr_t = lr_0 * gamma^t                          lecture 000 (0.95^epoch); lecture 002 Module 5.7
    inverse_time   lr_t = lr_0 / (1 + decay * t)                  lecture 000 (1 / (1 + decay_rate * epoch));
                                                                 lecture 002 Module 5.7 (1/t decay)
    inverse_sqrt   lr_t = lr_0 / sqrt(1 + decay * t)              lecture 000 (k / sqrt(epoch), epochs counted from 1)
    plateau        lr <- max(lr * factor, min_lr) when the validation loss rose since the last epoch
                                                                 lecture 002 Module 5.7 (halve if validation error rose)

The first five are ``torch.optim.lr_scheduler.LRScheduler`` subclasses that
compute the closed form (so ``step(epoch)`` and resuming from ``last_epoch``
give the same numbers); ``plateau`` is a ``ReduceLROnPlateau`` and takes the
validation loss: ``step(val_loss)``. They work with any optimizer whose
groups have an ``lr`` (ours or torch.optim's; not ``LineSearch``).

The momentum schedule of Sutskever, Martens, Dahl & Hinton (ICML 2013),
lecture 002 Module 5.7 "Tips for momentum", with t the number of optimizer
steps (iterations)::

    mu_t = min(1 - 2^(-1 - log2(floor(t / 250) + 1)), mu_max)
         = min(1 - 1 / (2k), mu_max),   k = floor(t / 250) + 1   (1/2, 3/4, 5/6, ...)

sets each group's ``momentum`` (SGD, Momentum, Nesterov, RMSprop) or
``betas[0]`` (the Adam family); step it once per iteration.
"""

import dataclasses
import enum
import inspect
import math

from torch.optim.lr_scheduler import ReduceLROnPlateau

from .base import check
from .closed_form import ClosedForm, require_lr
from .registry import unknown_name


def _check_int(name, value, minimum):
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    check(name, value, ok, f"an integer >= {minimum}")


def _check_real(name, value, test, requirement):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    check(name, value, ok and test(value), requirement)


class Constant(ClosedForm):
    def factor(self, epoch):
        return 1.0


class StepDecay(ClosedForm):
    def __init__(self, optimizer, step_size=5, gamma=0.5, last_epoch=-1):
        _check_int("step_size", step_size, 1)
        _check_real("gamma", gamma, lambda v: 0 < v <= 1, "in (0, 1]")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** (epoch // self.step_size)


class ExponentialDecay(ClosedForm):
    def __init__(self, optimizer, gamma=0.95, last_epoch=-1):
        _check_real("gamma", gamma, lambda v: 0 < v <= 1, "in (0, 1]")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** epoch


class InverseTimeDecay(ClosedForm):
    # decay=1 is the worked example of lecture 000's formula (Ng's deeplearning.ai course).
    def __init__(self, optimizer, decay=1.0, last_epoch=-1):
        _check_real("decay", decay, lambda v: v >= 0, "a number >= 0")
        self.decay = decay
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return 1 / (1 + self.decay * epoch)


class InverseSqrtDecay(ClosedForm):
    def __init__(self, optimizer, decay=1.0, last_epoch=-1):
        _check_real("decay", decay, lambda v: v >= 0, "a number >= 0")
        self.decay = decay
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return 1 / math.sqrt(1 + self.decay * epoch)


class Plateau(ReduceLROnPlateau):
    """Multiply the lr by ``factor`` once the validation loss has risen (compared
    with the previous epoch, as on the slide; torch compares with the best so far)
    on more than ``patience`` consecutive epochs. A NaN loss counts as a rise."""

    def __init__(self, optimizer, factor=0.5, patience=0, min_lr=0.0):
        require_lr(optimizer)
        _check_real("factor", factor, lambda v: 0 < v < 1, "in (0, 1)")
        _check_int("patience", patience, 0)
        _check_real("min_lr", min_lr, lambda v: v >= 0, "a number >= 0")
        super().__init__(optimizer, mode="min", factor=factor, patience=patience, threshold=0,
                         threshold_mode="abs", min_lr=min_lr)
        self.previous = None

    def step(self, metrics, epoch=None):
        current = float(metrics)
        rose = self.previous is not None and not current <= self.previous
        self.previous = current
        self.last_epoch += 1
        self.num_bad_epochs = self.num_bad_epochs + 1 if rose else 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(self.last_epoch)
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def group_momentum(group):
    """A param group's momentum: ``momentum`` (SGD, Momentum, Nesterov, RMSprop) or ``betas[0]``
    (the Adam family); None for an optimizer without one (Adagrad, Adadelta, Rprop, line search)."""
    if "momentum" in group:
        return group["momentum"]
    return group["betas"][0] if "betas" in group else None


class SutskeverMomentum:
    """mu_t = min(1 - 2^(-1 - log2(floor(t / period) + 1)), mu_max), set in every
    group's ``momentum`` or ``betas[0]``; ``step()`` once per optimizer step."""

    def __init__(self, optimizer, mu_max=0.99, period=250):
        _check_real("mu_max", mu_max, lambda v: 0 <= v < 1, "in [0, 1)")
        _check_int("period", period, 1)
        check("optimizer", type(optimizer).__name__, hasattr(optimizer, "param_groups"),
              "a torch.optim.Optimizer")
        for group in optimizer.param_groups:
            # Classes such as RMSprop create their momentum buffer only when momentum > 0.
            if not (group.get("momentum", 0) > 0 or "betas" in group):
                raise ValueError(f"{type(optimizer).__name__} has no momentum to schedule "
                                 "(build it with momentum > 0, or use one with betas)")
        self.optimizer, self.mu_max, self.period = optimizer, mu_max, period
        self.last_step = 0
        self._apply()

    def momentum(self, t):
        return min(1 - 2 ** (-1 - math.log2(t // self.period + 1)), self.mu_max)

    def step(self):
        self.last_step += 1
        self._apply()

    def get_last_momentum(self):
        return [group_momentum(group) for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"mu_max": self.mu_max, "period": self.period, "last_step": self.last_step}

    def load_state_dict(self, state_dict):
        self.mu_max, self.period = state_dict["mu_max"], state_dict["period"]
        self.last_step = state_dict["last_step"]
        self._apply()

    def _apply(self):
        mu = self.momentum(self.last_step)
        for group in self.optimizer.param_groups:
            if "momentum" in group:
                group["momentum"] = mu
            else:
                group["betas"] = (mu, group["betas"][1])


class Every(enum.Enum):
    """When the training loop calls a schedule's ``step()``."""
    EPOCH = "epoch"                                        # step()
    EPOCH_WITH_VAL_LOSS = "epoch, with the validation loss"  # step(val_loss)
    ITERATION = "iteration"                                # step() after every optimizer step


@dataclasses.dataclass(frozen=True)
class ScheduleInfo:
    name: str
    cls: type
    formula: str
    reference: str
    every: Every = Every.EPOCH


_ENTRIES = [
    ScheduleInfo("constant", Constant, "lr_t = lr_0", "-"),
    ScheduleInfo("step", StepDecay, "lr_t = lr_0 * gamma^floor(t / step_size)",
                 "lecture 001 (step decay every K steps); lecture 002 Module 5.7"),
    ScheduleInfo("exponential", ExponentialDecay, "lr_t = lr_0 * gamma^t",
                 "lecture 000 (0.95^epoch); lecture 002 Module 5.7"),
    ScheduleInfo("inverse_time", InverseTimeDecay, "lr_t = lr_0 / (1 + decay * t)",
                 "lecture 000 (1 / (1 + decay_rate * epoch)); lecture 002 Module 5.7"),
    ScheduleInfo("inverse_sqrt", InverseSqrtDecay, "lr_t = lr_0 / sqrt(1 + decay * t)",
                 "lecture 000 (k / sqrt(epoch))"),
    ScheduleInfo("plateau", Plateau, "lr <- max(factor * lr, min_lr) when the validation loss rises",
                 "lecture 002 Module 5.7 (halve if the validation error rose)",
                 every=Every.EPOCH_WITH_VAL_LOSS),
    ScheduleInfo("sutskever_momentum", SutskeverMomentum,
                 "mu_t = min(1 - 2^(-1 - log2(floor(t / period) + 1)), mu_max)",
                 "Sutskever et al. 2013; lecture 002 Module 5.7 (tips for momentum)", every=Every.ITERATION),
]

REGISTRY = {entry.name: entry for entry in _ENTRIES}


def available():
    """Sorted schedule names."""
    return sorted(REGISTRY)


def info(name):
    """The registry entry of ``name``; ``ValueError`` with a suggestion if unknown."""
    if name not in REGISTRY:
        raise unknown_name("schedule", name, REGISTRY)
    return REGISTRY[name]


def defaults(name):
    """The hyperparameters ``create(name, ...)`` uses unless overridden."""
    signature = inspect.signature(info(name).cls.__init__)
    return {p.name: p.default for p in signature.parameters.values()
            if p.default is not inspect.Parameter.empty and p.name != "last_epoch"}


def create(name, optimizer, **hp):
    """Schedule ``name`` over ``optimizer`` with its defaults overridden by ``hp``."""
    accepted = defaults(name)
    unknown = sorted(set(hp) - set(accepted))
    if unknown:
        raise ValueError(f"unknown hyperparameter {', '.join(map(repr, unknown))} for schedule "
                         f"'{name}' (accepted: {', '.join(accepted) or 'none'})")
    return info(name).cls(optimizer, **hp)
