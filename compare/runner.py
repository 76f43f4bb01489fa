"""``descentlab compare``: one model per optimizer, a fair fight, one report.

Fairness: for a given seed every optimizer starts from the same initial
weights (``models.create(..., seed=seed)``) and sees the same mini-batches in
the same order (one ``torch.Generator`` seeded with ``seed``). Several seeds
give mean +- std. Each run is then exported to OpenVINO (ONNX, IR FP32/FP16,
NNCF INT8) and scored on the chosen device.

``run_compare`` calls the stages in order, each in its own file: the settings
checked and the output directory claimed (outdir.py), the learning-rate search
(tune.py), the runs (task.py) spread over worker processes (pool.py) or the
ranks of torchrun (spread.py), the summary (summary.py) and the report
(report.py). A comparison killed at any moment resumes with ``--resume``
(outdir.py says how).
"""

import dataclasses
import time
from pathlib import Path

from descentlab import io
from descentlab.compare import outdir, pool, report, spread, summary, tune
from descentlab.compare.task import Task
from descentlab.train import datasets, tensorboard_log


def run_compare(config, out_dir, resume=False, quiet=False, data=None, tensorboard=None):
    """Run (or finish) a comparison into ``out_dir``; returns the results dict.

    ``tensorboard``: a directory where every run trained now logs its curves
    (``train.tensorboard_log``); under ``torchrun``, by the rank that trains it.

    ``data``: a ``train.datasets.Dataset`` of the user's own data, used instead
    of loading ``config.dataset`` by name (its name must be ``config.dataset``).
    Under ``torchrun`` the runs are spread over the ranks and rank 0 alone
    returns the results (None elsewhere): see ``spread``.
    """
    started = time.perf_counter()
    outdir.check(config)
    if tensorboard is not None:
        tensorboard_log.check_available()
    if data is not None and data.name != config.dataset:
        raise ValueError(f"the data given is named '{data.name}', the settings say dataset '{config.dataset}'")
    out = Path(out_dir)
    group = spread.join()
    dataset = data or datasets.load(config.dataset, data_dir=config.data_dir, seed=config.seeds[0])
    if config.max_accuracy_drop is not None and dataset.task != "classification":
        raise ValueError(f"--max-accuracy-drop needs a classification dataset ('{config.dataset}' is {dataset.task})")
    group.first(outdir.claim, out, config, resume)  # after the data loaded: a bad dataset writes nothing

    lrs, tuned = dict(config.lr), None
    if config.tune_lr:
        tuned = group.first(tune.tune_all, config, dataset, out / "tuning.json", quiet)
        lrs.update({n: t["best_lr"] for n, t in tuned.items()})

    tasks = [Task(config=config.run_config(name, seed, lrs.get(name)), run_dir=str(out / f"{name}-seed{seed}"),
                  device=config.device, precisions=tuple(config.precisions), data=data,
                  max_accuracy_drop=config.max_accuracy_drop, tensorboard=tensorboard)
             for seed in config.seeds for name in config.names]
    workers = pool.worker_count(config.workers, len(tasks), group.world_size)
    records = spread.run_all(group, tasks, workers, quiet, pool.run_all, out)
    if records is None:  # not rank 0
        return None
    results = summary.summarise(dataclasses.replace(config, workers=workers), records, tuned)
    results["timings"] = summary.timings(records, time.perf_counter() - started)
    io.write_json(out / "results.json", results)
    report.write(out, results)
    return results
