"""Synthetic comparisons for the figure and report tests: run records shaped like
``train_run``'s, summarised by the real ``summary.summarise``, in milliseconds."""

import math
import random

from descentlab.compare.summary import summarise
from descentlab.compare.settings import CompareConfig
from descentlab.train.history import History

EPOCHS = 3
STEPS_PER_EPOCH = 40


def record(name, seed, rate, diverge_at=None):
    """A run whose loss decays at ``rate`` per step with seeded noise; ``diverge_at``:
    the step whose loss becomes inf (the run stops there, like ``train_run``)."""
    rng = random.Random(f"{name}-{seed}")
    history = History(initial_val_loss=2.3, initial_val_accuracy=0.1)
    for epoch in range(EPOCHS):
        for step in range(STEPS_PER_EPOCH):
            t = epoch * STEPS_PER_EPOCH + step
            loss = 2.3 * math.exp(-rate * t) + 0.05 + 0.1 * rng.random()
            if diverge_at is not None and t >= diverge_at:
                history.step_loss.append(math.inf)
                break
            history.step_loss.append(loss)
        done = history.step_loss[epoch * STEPS_PER_EPOCH:]
        history.train_loss.append(sum(done) / len(done))
        history.val_loss.append(history.step_loss[-1])
        history.val_accuracy.append(min(0.99, 1 - history.step_loss[-1] / 2.5))
        history.lr.append(0.01)
        history.seconds.append((history.seconds[-1] if history.seconds else 0.0) + 1.0 + rate)
        if diverge_at is not None and len(history.step_loss) > diverge_at:
            break
    diverged = diverge_at is not None
    accuracy = None if diverged else history.val_accuracy[-1] - 0.01 * rng.random()
    deployed = {"skipped": "diverged"} if diverged else {
        "fp32": {"test_accuracy": accuracy - 0.002, "test_loss": history.val_loss[-1], "delta_vs_torch": -0.002,
                 "mcnemar_p": 1.0, "within_noise": True, "flips": None, "runs_in": "f32"}}
    return {"optimizer": name, "seed": seed, "hparams": {"lr": 0.01}, "diverged": diverged,
            "diverged_epoch": history.epochs if diverged else None, "history": history.to_dict(),
            "torch": {"test_accuracy": accuracy, "test_loss": None if diverged else history.val_loss[-1]},
            "best_epoch": history.best_epoch(), "train_seconds": history.seconds[-1],
            "seconds_per_epoch": history.seconds[-1] / history.epochs, "openvino": deployed}


def search(i):
    """A learning-rate search (``tune.tune_one``'s shape) whose best lr is 1e-2; 1 diverged."""
    trials = [{"lr": lr, "score": None if lr == 1.0 else 0.9 - 0.1 * abs(k - 2) - 0.01 * i,
               "val_loss": None if lr == 1.0 else 0.3 + 0.1 * abs(k - 2)}
              for k, lr in enumerate((1e-4, 1e-3, 1e-2, 1e-1, 1.0))]
    return {"trials": trials, "best_lr": 1e-2}


def results(names, seeds=(0,), diverging=()):
    """The results dict of a comparison of ``names`` over ``seeds``, deployed in FP32 after a
    learning-rate search; the optimizers in ``diverging`` blow up in their second epoch."""
    config = CompareConfig(optimizers=tuple(names), seeds=tuple(seeds), epochs=EPOCHS, precisions=("fp32",),
                           tune_lr=True)
    records = [record(name, seed, 0.005 + 0.004 * i, STEPS_PER_EPOCH + 5 if name in diverging else None)
               for seed in seeds for i, name in enumerate(names)]
    return summarise(config, records, {name: search(i) for i, name in enumerate(names)})
