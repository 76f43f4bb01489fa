"""The base class of the closed-form learning-rate schedules: lr_t = lr_0 * factor(t).

``ClosedForm`` is a ``torch.optim.lr_scheduler.LRScheduler`` whose subclass
writes one method, ``factor(epoch)``; ``schedules`` builds step, exponential
and inverse-time decay on it, and the ``step_decay`` lab exercise is one more
subclass the student writes. It lives apart from ``schedules`` so that the
lab's grader can give a student this base without the schedules themselves
(the answers).
"""

from torch.optim.lr_scheduler import LRScheduler

from .base import check


def require_lr(optimizer):
    """``ValueError`` unless ``optimizer`` is an optimizer whose every param group has an ``lr``."""
    check("optimizer", type(optimizer).__name__, hasattr(optimizer, "param_groups"),
          "a torch.optim.Optimizer")
    if not all("lr" in group for group in optimizer.param_groups):
        raise ValueError(f"{type(optimizer).__name__} has no learning rate ('lr') to schedule")


class ClosedForm(LRScheduler):
    """lr_t = lr_0 * factor(t) in every param group; subclasses give ``factor``."""

    def __init__(self, optimizer, last_epoch=-1):
        require_lr(optimizer)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        raise NotImplementedError

    def get_lr(self):
        return [base_lr * self.factor(self.last_epoch) for base_lr in self.base_lrs]

    _get_closed_form_lr = get_lr
