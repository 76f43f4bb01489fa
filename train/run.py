"""One training run: a model, an optimizer, a dataset, a seed.

Batch gradient descent (``batch_size=None``), stochastic (``1``) and
mini-batch (``k``) are the same loop with a different batch size (lecture 000,
lecture 002 Module 5.6): every epoch walks one seeded permutation of the
training set (lecture 001, "mini-batch with reshuffling"). Every optimizer is
stepped with a closure, so those that re-evaluate the loss (line search) work
like the others.

With ``out_dir`` the run writes ``checkpoint.pt`` after every epoch (weights,
optimizer and schedule state, the batch generator's state, history), so a
killed run resumes from its last epoch and ends with the same numbers.

Under ``torchrun`` (``train_into``) the same loop runs on every rank with
DistributedDataParallel, each rank on its share of every batch, rank 0 alone
writing files (train/distributed.py).
"""

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from descentlab import models
from descentlab import optimizers
from descentlab.optimizers import schedules
from descentlab.io import pack_bools
from descentlab.train import checkpoint, distributed, objective, precision
from descentlab.train.clock import Clock
from descentlab.train.history import History

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class RunConfig:
    dataset: str
    model: str
    optimizer: str
    hparams: dict = field(default_factory=dict)    # overrides of optimizers.defaults(optimizer)
    optimizer_file: str = None                     # "FILE.py:Class" when the optimizer is a user's class
    epochs: int = 10
    batch_size: int = 128                          # None: full batch
    seed: int = 0
    model_kwargs: dict = field(default_factory=dict)
    schedule: str = None
    schedule_kwargs: dict = field(default_factory=dict)
    clip_norm: float = None
    clip_value: float = None
    data_dir: str = None
    device: str = "cpu"                            # torch device to train on: cpu, cuda, cuda:N
    # The arithmetic of the forward pass and loss (train/precision.py): fp32, bf16 (autocast,
    # float32 weights and optimizer state) or auto (bf16 where the CPU has bf16 units).
    precision: str = "fp32"
    # Convolutional nets train in channels_last on the CPU (None: there, and nowhere else);
    # the same arithmetic in another memory order, faster in oneDNN's kernels.
    channels_last: bool = None
    # A run has diverged when its loss is NaN/Inf or its epoch loss exceeds
    # this many times the loss it started from.
    diverge_factor: float = 10.0


def register_optimizer(config):
    """Make a user's optimizer class (``config.optimizer_file``) known under ``config.optimizer``
    in this process: a spawned worker starts without it."""
    if config.optimizer_file:
        optimizers.registry.register_file(config.optimizer_file, name=config.optimizer)


def validate(config):
    """ValueError for a config that cannot run (before any work is done)."""
    register_optimizer(config)
    models.options(config.model)
    distributed.check_device(config.device)
    precision.resolve(config.precision, config.device)
    defaults = optimizers.defaults(config.optimizer)
    unknown = sorted(set(config.hparams) - set(defaults))
    if unknown:
        raise ValueError(f"unknown hyperparameter {', '.join(unknown)} for '{config.optimizer}'")
    if not isinstance(config.epochs, int) or config.epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {config.epochs!r}")
    if config.schedule:
        unknown = sorted(set(config.schedule_kwargs) - set(schedules.defaults(config.schedule)))
        if unknown:
            raise ValueError(f"unknown option {', '.join(unknown)} for schedule '{config.schedule}'")
    for name in ("clip_norm", "clip_value"):
        value = getattr(config, name)
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")


def build(config, dataset):
    """The model, optimizer and schedule of a run, freshly initialised from its seed."""
    register_optimizer(config)
    model = models.create(config.model, dataset.input_shape, dataset.num_classes,
                          seed=config.seed, **config.model_kwargs)
    optimizer = optimizers.create(config.optimizer, model.parameters(), **config.hparams)
    schedule = None
    if config.schedule:
        schedule = schedules.create(config.schedule, optimizer, **config.schedule_kwargs)
    return model, optimizer, schedule


def train_run(config, dataset, out_dir=None, resume=False, on_epoch=None,
              group=distributed.SINGLE, on_step=None):
    """Train one run; returns the run's result dict (see ``result_record``).

    ``on_epoch(epoch, history)`` is called after every epoch (progress bars);
    ``on_step(step, loss, optimizer)`` after every optimizer step (``step`` counts
    from 1), before a per-iteration schedule moves on (TensorBoard logs).
    ``group``: the ranks that train this run together (``distributed.join()``).
    """
    validate(config)
    group.check_batch_size(config.batch_size)
    trained_in = precision.resolve(config.precision, config.device)
    model, optimizer, schedule = build(config, dataset)
    model.to(group.device(config.device), memory_format=memory_format(config, model))
    generator = torch.Generator().manual_seed(config.seed)
    history, start, diverged_epoch = History(), 0, None
    path = Path(out_dir) / CHECKPOINT if out_dir else None
    saved = group.first(_read, path) if resume and path is not None else None
    if saved is not None:
        history, start, diverged_epoch = _restore(saved, model, optimizer, schedule, generator)
    net = group.wrap(model)
    clock = Clock()
    if start == 0:
        with clock("validation"):
            history.initial_val_loss, history.initial_val_accuracy = objective.evaluate(
                model, dataset.val, dataset.task)

    for epoch in range(start, config.epochs):
        if diverged_epoch is not None:
            break
        lr = optimizer.param_groups[0].get("lr")
        epoch_loss, finite, seconds = _train_epoch(config, dataset, net, optimizer, generator,
                                                   history, schedule, group, on_step, trained_in)
        with clock("validation"):
            val_loss, val_accuracy = objective.evaluate(model, dataset.val, dataset.task)
        history.train_loss.append(epoch_loss)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_accuracy)
        history.lr.append(lr)
        history.seconds.append((history.seconds[-1] if history.seconds else 0.0) + seconds)
        if not finite or not math.isfinite(val_loss) or \
                epoch_loss > config.diverge_factor * history.initial_val_loss:
            diverged_epoch = epoch + 1
        elif schedule is not None:
            when = _when(config)
            if when is schedules.Every.EPOCH:
                schedule.step()
            elif when is schedules.Every.EPOCH_WITH_VAL_LOSS:
                schedule.step(val_loss)
        if path is not None and group.writes:
            with clock("checkpoints"):
                _save(path, config, dataset, model, optimizer, schedule, generator, history,
                      epoch + 1, diverged_epoch)
        if on_epoch is not None:
            on_epoch(epoch + 1, history)

    with clock("test"):
        test_loss, test_accuracy, test_correct = objective.evaluate(model, dataset.test, dataset.task,
                                                                    examples=True)
    record = result_record(config, history, diverged_epoch, test_loss, test_accuracy)
    record["train_precision"] = trained_in
    record["timings"] = {"training": record["train_seconds"], **clock.seconds}
    if test_accuracy is not None:
        record["torch"]["test_correct"] = pack_bools(test_correct.numpy())
    return record


def train_into(config, out_dir, resume=False, quiet=False, tensorboard=None):
    """``descentlab train``: train one run into ``out_dir`` (``checkpoint.pt``
    after every epoch, ``run.json`` at the end) with a progress line, and
    return its record. An existing checkpoint is continued with ``resume``,
    never overwritten without it. ``tensorboard``: a directory to log the run
    into (``train.tensorboard_log``).

    Under ``torchrun`` every rank trains its share of each batch with DDP and
    rank 0 alone writes; ``run.json`` records the world size and backend."""
    from descentlab import io
    from descentlab.train import datasets, tensorboard_log
    from descentlab.train.progress import Progress

    validate(config)
    if tensorboard is not None:
        tensorboard_log.check_available()
    out = Path(out_dir)
    io.check_writable_dir(out)
    if (out / CHECKPOINT).exists() and not resume:
        raise ValueError(f"'{out}' already holds a checkpoint: pass --resume or choose another --out")
    dataset = datasets.load(config.dataset, data_dir=config.data_dir, seed=config.seed)
    group = distributed.join(config.device)
    log = tensorboard_log.RunLog(tensorboard, config.optimizer, config.seed) \
        if tensorboard is not None and group.writes else None
    try:
        record = _train_into(config, dataset, out, resume, Progress(config.epochs, quiet or not group.writes),
                             group, log)
    finally:
        distributed.leave(group)
        if log is not None:
            log.close()
    if group.writes:
        io.write_json(out / "run.json", record)
    return record


def _train_into(config, dataset, out, resume, progress, group, log):
    def on_epoch(epoch, history):
        acc = history.val_accuracy[-1]
        progress.advance(f"epoch {epoch}: train loss {history.train_loss[-1]:.4f}"
                         + (f", val acc {acc:.4f}" if acc is not None else ""))
        if log is not None:
            log.epoch(history)

    record = train_run(config, dataset, out_dir=out, resume=resume, on_epoch=on_epoch, group=group,
                       on_step=log.step if log is not None else None)
    progress.close()
    record["distributed"] = group.describe()
    return record


def result_record(config, history, diverged_epoch, test_loss, test_accuracy):
    """The run as results.json stores it (one entry of its ``runs``); ``torch.test_correct``
    (added by ``train_run``) is the per-example correctness, packed by ``io.pack_bools``."""
    hparams = {**optimizers.defaults(config.optimizer), **config.hparams}
    return {
        "optimizer": config.optimizer,
        "seed": config.seed,
        "hparams": {k: v for k, v in hparams.items() if k != "maximize"},
        "diverged": diverged_epoch is not None,
        "diverged_epoch": diverged_epoch,
        "history": history.to_dict(),
        "torch": {"test_accuracy": test_accuracy, "test_loss": test_loss},
        "best_epoch": history.best_epoch(),
        "train_seconds": history.seconds[-1] if history.seconds else 0.0,
        "seconds_per_epoch": (history.seconds[-1] / history.epochs) if history.epochs else None,
        "config": dataclasses.asdict(config),
        "trained_on": distributed.placement(),
    }


def _clipper(config):
    """The gradient clipping the config asks for (lecture 003), as one function, or None."""
    if config.clip_norm is None and config.clip_value is None:
        return None
    from descentlab.optimizers import clipping

    def clip(params):
        params = list(params)
        if config.clip_norm is not None:
            clipping.clip_grad_norm(params, config.clip_norm)
        if config.clip_value is not None:
            clipping.clip_grad_value(params, config.clip_value)

    return clip


def memory_format(config, model):
    """channels_last for a convolutional net, when the config asks or leaves it to us on the CPU.

    The weights of its convolutions are stored channels-last; the convolutions
    then compute in that order (converting their input), the order oneDNN's CPU
    kernels are fastest in (``benchmarks/compare_time.py`` times the training
    step with and without it and pooling before ReLU)."""
    wanted = config.channels_last
    if wanted is None:
        wanted = config.device == "cpu"
    has_conv = any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    return torch.channels_last if wanted and has_conv else torch.preserve_format


def _when(config):
    """When the run's schedule steps (``schedules.Every``)."""
    return schedules.info(config.schedule).every


def _train_epoch(config, dataset, model, optimizer, generator, history, schedule, group, on_step=None,
                 trained_in="fp32"):
    """One pass over the training set; returns (mean loss, all finite?, seconds).

    ``model`` may be the DDP wrapper; ``group`` shares each batch among the ranks;
    ``trained_in``: the forward pass and loss run in fp32 or under bf16 autocast (``precision``)."""
    per_iteration = schedule is not None and _when(config) is schedules.Every.ITERATION
    clip = _clipper(config)
    model.train()
    task, total, n = dataset.task, 0.0, 0
    device = next(model.parameters()).device
    start = time.perf_counter()
    for xb, yb, size in group.batches(dataset.train.x, dataset.train.y, config.batch_size, generator):
        xb, yb = xb.to(device), yb.to(device)

        def closure():
            optimizer.zero_grad()
            with precision.autocast(trained_in, device.type):
                batch_loss = group.loss(task, model(xb), yb, size)
            batch_loss.backward()
            if clip is not None:
                clip(model.parameters())
            return group.mean(batch_loss.detach())

        def forward_only():  # the loss alone: how the line search scores its candidate steps
            with precision.autocast(trained_in, device.type):
                return group.mean(group.loss(task, model(xb), yb, size))

        closure.loss = forward_only
        value = float(optimizer.step(closure))
        if on_step is not None:
            on_step(len(history.step_loss) + 1, value, optimizer)
        if per_iteration:
            schedule.step()
        history.step_loss.append(value)
        if not math.isfinite(value):
            return value, False, time.perf_counter() - start
        total += value * size
        n += size
    return total / n, True, time.perf_counter() - start


def _save(path, config, dataset, model, optimizer, schedule, generator, history, epoch,
          diverged_epoch):
    checkpoint.save(path, {
        "model": {"name": config.model, "kwargs": dict(config.model_kwargs),
                  "input_shape": list(dataset.input_shape), "num_classes": dataset.num_classes},
        "model_state": model.state_dict(),
        "dataset": {"name": dataset.name, "data_dir": config.data_dir, "seed": config.seed,
                    "task": dataset.task},
        "optimizer": {"name": config.optimizer, "hparams": dict(config.hparams),
                      "state": optimizer.state_dict()},
        "history": history.to_dict(),
        "config": dataclasses.asdict(config),
        "epoch": epoch,
        "resume": {"generator": generator.get_state(),
                   "schedule": schedule.state_dict() if schedule is not None else None,
                   "diverged_epoch": diverged_epoch},
    })


def _read(path):
    """The checkpoint at ``path``, or None when there is none yet."""
    return checkpoint.load(path) if path.is_file() else None


def _restore(saved, model, optimizer, schedule, generator):
    model.load_state_dict(saved["model_state"])
    optimizer.load_state_dict(saved["optimizer"]["state"])
    if schedule is not None and saved["resume"]["schedule"] is not None:
        schedule.load_state_dict(saved["resume"]["schedule"])
    generator.set_state(saved["resume"]["generator"])
    return History.from_dict(saved["history"]), saved["epoch"], saved["resume"]["diverged_epoch"]
