"""One run of a comparison: one optimizer and one seed trained, exported to
OpenVINO and scored on a device, its record written to ``run.json``.

A ``Task`` says everything a run needs, so that a worker process (pool.py)
or another rank (spread.py) can run it from the task alone.
"""

import dataclasses
import functools
import json
from pathlib import Path

from descentlab import io
from descentlab.compare import deployed
from descentlab.train import datasets, objective, tensorboard_log
from descentlab.train.clock import Clock
from descentlab.train.run import memory_format, train_run

RUN_RESULT = "run.json"


@dataclasses.dataclass(frozen=True)
class Task:
    """One run of a comparison. ``config``: its ``train.run.RunConfig``; ``run_dir``:
    its directory (a str); ``device`` and ``precisions``: where and how its OpenVINO
    models are scored; ``data``: the user's ``train.datasets.Dataset``, or None to
    load ``config.dataset`` by name; ``max_accuracy_drop``: NNCF's accuracy control
    for the INT8 IR (None: off); ``tensorboard``: the directory of its TensorBoard
    log (None: no log)."""
    config: object
    run_dir: str
    device: str
    precisions: tuple
    data: object
    max_accuracy_drop: float
    tensorboard: str


@functools.lru_cache(maxsize=4)
def _dataset(name, data_dir, seed):
    return datasets.load(name, data_dir=data_dir, seed=seed)


def run_task(task, progress=None):
    """Train, export and score one run; reuse ``run.json`` when it is already complete."""
    config, run_dir = task.config, Path(task.run_dir)
    done = run_dir / RUN_RESULT
    if done.is_file():
        return json.loads(done.read_text())
    clock = Clock()
    with clock("data and warm-up"):
        dataset = task.data or _dataset(config.dataset, config.data_dir, config.seed)
        _warm_up(config, dataset)

    def on_epoch(epoch, history):
        if progress is not None:
            acc = history.val_accuracy[-1]
            metric = f"val acc {acc:.3f}" if acc is not None else f"val loss {history.val_loss[-1]:.4f}"
            progress.show(f"{config.optimizer} seed {config.seed} epoch {epoch}/{config.epochs} {metric}")
        if log is not None:
            log.epoch(history)

    log = tensorboard_log.RunLog(task.tensorboard, config.optimizer, config.seed) if task.tensorboard else None
    try:
        record = train_run(config, dataset, out_dir=run_dir, resume=True, on_epoch=on_epoch,
                           on_step=log.step if log is not None else None)
        record["openvino"] = deploy(run_dir, dataset, record, task.device, task.precisions,
                                   task.max_accuracy_drop, clock)
        record["timings"].update(clock.seconds)
        if log is not None:
            log.deployed(record)
    finally:
        if log is not None:
            log.close()
    io.write_json(done, record)
    return json.loads(done.read_text())


_WARMED = set()


def _warm_up(config, dataset):
    """A few untimed forward/backward passes before the first run of a model in a
    process: torch's thread pools and kernels start lazily, and the first
    optimizer timed would otherwise pay for them in its seconds per epoch."""
    if (config.model, dataset.name) in _WARMED:
        return
    from descentlab import models

    model = models.create(config.model, dataset.input_shape, dataset.num_classes,
                          **config.model_kwargs)
    model.to(memory_format=memory_format(config, model))  # the kernels the runs will use
    size = config.batch_size or len(dataset.train)
    for start in range(0, min(len(dataset.train), 10 * size), size):
        objective.loss(dataset.task, model(dataset.train.x[start:start + size]),
                       dataset.train.y[start:start + size]).backward()
    _WARMED.add((config.model, dataset.name))


def deploy(run_dir, dataset, record, device, precisions, max_accuracy_drop=None, clock=None):
    """Export the run to OpenVINO and score every precision on ``device``.

    Each precision records its test accuracy and loss, the difference from
    PyTorch and whether it is within test-set noise (``deployed.versus_torch``),
    and the precision the device really computed in (``execution``, ``runs_in``;
    for native and bf16 also ``same_as_fp32``: it computed in f32 after all).
    ``max_accuracy_drop`` turns on NNCF's accuracy control for the INT8 IR.
    A run whose export fails a hop's check is kept, with the reason, like a
    diverged one: one model must not cost the whole comparison. ``clock``
    (``train.clock.Clock``) receives the seconds of the export and of the OpenVINO scoring."""
    if not precisions:
        return {"skipped": "no precisions asked for"}
    if record["diverged"]:
        return {"skipped": f"diverged at epoch {record['diverged_epoch']}"}
    from descentlab import export
    from descentlab import infer
    from descentlab.infer import precision as ov_precision

    clock = clock or Clock()
    files = {ov_precision.ir_precision(p) for p in precisions}
    try:
        with clock("export"):
            manifest = export.export_checkpoint(run_dir / "checkpoint.pt", run_dir, precisions=files,
                                                data=dataset, max_accuracy_drop=max_accuracy_drop)
    except ValueError as exc:  # a hop failed its check: report it, keep the comparison going
        return {"skipped": f"{record['optimizer']} seed {record['seed']}: export failed: {exc}"}
    with clock("openvino"):
        test = dataset.test
        packed = record["torch"].get("test_correct")  # train_run's per-example hits (classification)
        torch_correct = io.unpack_bools(packed) if packed else None
        torch_acc = record["torch"]["test_accuracy"]
        scores = {}
        for p in precisions:
            result = infer.evaluate(run_dir / f"model_{ov_precision.ir_precision(p)}.xml", test.x, test.y,
                                    device=device, precision=p, task=dataset.task, examples=True)
            scores[p] = {"test_accuracy": result["accuracy"], "test_loss": result["loss"],
                         "delta_vs_torch": (result["accuracy"] - torch_acc
                                            if result["accuracy"] is not None and torch_acc is not None
                                            else None),
                         **deployed.versus_torch(torch_correct, result.get("correct")),
                         "execution": result["execution"], "runs_in": ov_precision.describe(result["execution"])}
            if p in ("native", "bf16"):  # the FP32 IR run another way: did it compute anything but f32?
                scores[p]["same_as_fp32"] = ov_precision.same_as_pinned(result["execution"])
            if "correct" in result:
                scores[p]["test_correct"] = io.pack_bools(result["correct"])
    scores["export"] = {"hops": manifest["hops"], "int8": manifest.get("int8")}
    return scores
