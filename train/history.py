"""What a training run records, step by step and epoch by epoch."""

import dataclasses
from dataclasses import dataclass, field


@dataclass
class History:
    """Per-step training loss, and per-epoch (index e = after epoch e+1):
    mean training loss over the epoch's batches, validation loss and accuracy,
    the learning rate used, and the cumulative training seconds (evaluation
    excluded). ``initial_*`` are the validation numbers before the first step."""
    step_loss: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    initial_val_loss: float = None
    initial_val_accuracy: float = None

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)

    @property
    def epochs(self):
        return len(self.train_loss)

    def best_epoch(self):
        """1-based epoch with the best validation accuracy (lowest val loss for regression)."""
        if not self.val_loss:
            return None
        if self.val_accuracy and self.val_accuracy[0] is not None:
            return max(range(len(self.val_accuracy)), key=lambda e: (self.val_accuracy[e], -e)) + 1
        return min(range(len(self.val_loss)), key=lambda e: (self.val_loss[e], e)) + 1

    def epochs_to(self, target):
        """First 1-based epoch whose validation accuracy reaches ``target``, else None."""
        for e, acc in enumerate(self.val_accuracy):
            if acc is not None and acc >= target:
                return e + 1
        return None
