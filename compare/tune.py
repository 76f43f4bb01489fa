"""``--tune-lr``: a short learning-rate search per optimizer on the validation set.

The lecture recipe (lecture 002, "tips for the learning rate"): try values on a
log scale, 1e-4 ... 1, then search more finely around the best. Each trial
trains ``tune_epochs`` epochs from the same weights and batches (the first
seed) and is scored by its final validation accuracy (validation loss for
regression); a diverged trial scores worst. The search is saved to
``tuning.json`` after every optimizer, so ``--resume`` does not redo it.
"""

import json
import math

from descentlab import optimizers
from descentlab import io
from descentlab.train.progress import Progress
from descentlab.train.run import train_run

COARSE = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
FINE = (10 ** -0.5, 10 ** 0.5)   # around the coarse winner: /3.16 and x3.16


def score(record):
    """Higher is better; None for a diverged trial."""
    if record["diverged"]:
        return None
    history = record["history"]
    if history["val_accuracy"][-1] is not None:
        return history["val_accuracy"][-1]
    return -history["val_loss"][-1]


def best_lr(trials):
    """The learning rate with the best score; ties go to the lower validation loss."""
    ranked = [(s, -loss, lr) for lr, (s, loss) in trials.items() if s is not None]
    if not ranked:
        return None
    return max(ranked)[2]


def tune_one(config, dataset, name, progress=None):
    def trial(lr):
        record = train_run(config.run_config(name, config.seeds[0], lr, config.tune_epochs), dataset)
        loss = record["history"]["val_loss"][-1] if record["history"]["val_loss"] else math.inf
        if progress is not None:
            progress.show(f"tuning {name}: lr {lr:.3g} -> {score(record)}")
        return score(record), loss

    trials = {lr: trial(lr) for lr in COARSE}
    coarse_best = best_lr(trials)
    if coarse_best is not None:
        for factor in FINE:
            lr = float(f"{coarse_best * factor:.3g}")
            trials[lr] = trial(lr)
    return {"trials": [{"lr": lr, "score": s, "val_loss": loss} for lr, (s, loss) in sorted(trials.items())],
            "best_lr": best_lr(trials)}


def tune_all(config, dataset, path, quiet=False):
    """Tune every optimizer that has a learning rate and no ``--lr``; returns name -> result."""
    done = json.loads(path.read_text()) if path.is_file() else {}
    names = [n for n in config.names if "lr" in optimizers.defaults(n) and n not in config.lr]
    progress = Progress(len(names), quiet)
    for name in names:
        if name not in done:
            done[name] = tune_one(config, dataset, name, progress)
            io.write_json(path, done)
        progress.advance(f"tuned {name}: lr {done[name]['best_lr']}")
    progress.close()
    return {n: done[n] for n in names if done[n]["best_lr"] is not None}
