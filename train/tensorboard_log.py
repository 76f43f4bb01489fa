"""TensorBoard logs of training runs (``--tensorboard DIR`` of ``train`` and
``compare``), written with ``torch.utils.tensorboard``; the ``tensorboard``
package is an optional extra: ``pip install 'descentlab[tensorboard]'``.

Each (optimizer, seed) run writes its own directory, ``DIR/<optimizer>-seed<k>``,
with these scalars, all at the global step (the number of optimizer steps done):

  train/loss                            the training loss of every step
  train/lr                              the learning rate that step used, as scheduled
  train/momentum                        its momentum as scheduled: ``momentum`` (SGD family,
                                        RMSprop) or beta1 (Adam family); absent when the
                                        optimizer has none
  val/loss, val/accuracy                after every epoch
  openvino/<precision>/test_accuracy    (compare) the deployed model on the OpenVINO device

Open them with ``tensorboard --logdir DIR``. A resumed run continues its curves:
its writer starts at the step it resumes from and purges what an earlier attempt
logged from there on.
"""

from pathlib import Path

from descentlab.errors import UserError
from descentlab.optimizers.schedules import group_momentum


def check_available():
    """UserError (exit 2) naming the extra to install when tensorboard is missing."""
    try:
        import tensorboard  # noqa: F401  (torch.utils.tensorboard needs it)
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise UserError("--tensorboard needs the tensorboard package: "
                        "pip install 'descentlab[tensorboard]'") from None


def run_directory(root, optimizer, seed):
    return Path(root) / f"{optimizer}-seed{seed}"


class RunLog:
    """The TensorBoard log of one run; the event file is opened at the first step."""

    def __init__(self, root, optimizer, seed):
        self.directory = run_directory(root, optimizer, seed)
        self.writer = None

    def _writer(self, step):
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.directory), purge_step=step)
        return self.writer

    def step(self, step, loss, optimizer):
        """After optimizer step ``step`` (1-based), before any schedule moves on."""
        writer = self._writer(step)
        group = optimizer.param_groups[0]
        writer.add_scalar("train/loss", loss, step)
        if "lr" in group:
            writer.add_scalar("train/lr", group["lr"], step)
        momentum = group_momentum(group)
        if momentum is not None:
            writer.add_scalar("train/momentum", momentum, step)

    def epoch(self, history):
        """After an epoch: its validation numbers (``train.history.History``)."""
        step = len(history.step_loss)
        writer = self._writer(step)
        writer.add_scalar("val/loss", history.val_loss[-1], step)
        if history.val_accuracy[-1] is not None:
            writer.add_scalar("val/accuracy", history.val_accuracy[-1], step)

    def deployed(self, record):
        """The OpenVINO test accuracy of every precision of a compare run's ``record``."""
        step = len(record["history"]["step_loss"])
        writer = self._writer(step)
        for precision, scores in record["openvino"].items():
            if isinstance(scores, dict) and scores.get("test_accuracy") is not None:
                writer.add_scalar(f"openvino/{precision}/test_accuracy", scores["test_accuracy"], step)

    def close(self):
        if self.writer is not None:
            self.writer.close()
