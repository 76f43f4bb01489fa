"""``descentlab.train``: data, the training loop and what it writes.

| job | file |
|---|---|
| datasets by name, the user's own data, splits | datasets.py (IDX and CIFAR readers: idx.py, cifar.py; 2-D toys: toys.py) |
| the same mini-batches in the same order for every optimizer | batches.py |
| one training run: ``train_run(RunConfig, dataset)`` | run.py (loss: objective.py, per-epoch record: history.py) |
| checkpoints that resume | checkpoint.py |
| the optimizer's training hyperparameters | hparams.py |
| torchrun ranks, CPU cores | distributed.py |
| phase timings, progress lines, TensorBoard | clock.py, progress.py, tensorboard_log.py |

The schedules live in ``descentlab.optimizers.schedules``; the comparison that
runs many trainings in ``descentlab.compare``.
"""
