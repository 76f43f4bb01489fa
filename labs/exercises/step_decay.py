"""Exercise: step decay of the learning rate.

Lecture 001 (multiply the learning rate by gamma once every K steps), lecture
002 Module 5.7 (halve the learning rate every few epochs). With eta_0 the
learning rate the optimizer had when the schedule was made and t the number of
epochs done so far (t = 0, 1, 2, ...)::

    eta_t = eta_0 * gamma^floor(t / K)

so eta stays eta_0 for epochs 0 .. K-1, is gamma * eta_0 for epochs K .. 2K-1,
and so on. K is ``self.step_size``, gamma is ``self.gamma``.

``ClosedForm`` is a torch.optim.lr_scheduler.LRScheduler that sets every
param group's lr to eta_0 * factor(t): write ``factor``. The schedule then
works with any optimizer, yours or torch's::

    schedule = StepDecay(optimizer, step_size=5, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch()
        schedule.step()

Check your work:  descentlab lab check step_decay --path step_decay.py
"""

import math

from descentlab.optimizers import ClosedForm


class StepDecay(ClosedForm):
    def __init__(self, optimizer, step_size=5, gamma=0.5, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        """eta_t / eta_0 after ``epoch`` epochs (an integer >= 0)."""
        # TODO: return gamma^floor(t / K) (// is integer division).
        raise NotImplementedError("TODO: factor")
