"""``descentlab compare``: one model per optimizer, a fair fight, one report.

Fairness: for a given seed every optimizer starts from the same initial
weights (``models.create(..., seed=seed)``) and sees the same mini-batches in
the same order (one ``torch.Generator`` seeded with ``seed``). Several seeds
give mean +- std. Each run is then exported to OpenVINO (ONNX, IR FP32/FP16,
NNCF INT8) and scored on the chosen device.

The output directory::

    compare.json            the settings (checked again on --resume)
    tuning.json             the learning-rate search, with --tune-lr
    <optimizer>-seed<k>/    checkpoint.pt, run.json, model.onnx, model_<p>.xml/.bin, manifest.json
    results.json, report.md, *.png

Every file is written atomically, and ``run.json`` only when a run is
complete, so a comparison killed at any moment resumes with ``--resume``:
finished runs are read back, an interrupted run continues from its last epoch.
"""

import contextlib
import dataclasses
import functools
import json
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from descentlab import optimizers
from descentlab import io
from descentlab.errors import UserError
from descentlab.train import datasets, distributed, objective, tensorboard_log
from descentlab.train.clock import Clock
from descentlab.compare import deployed, report, spread, stats, tune
from descentlab.train.history import History
from descentlab.compare.settings import PRECISIONS, CompareConfig
from descentlab.train.progress import Progress
from descentlab.train.run import memory_format, train_run, validate

RUN_RESULT = "run.json"


def check(config):
    """Everything that can be wrong with the settings, before any training."""
    for name in config.names:
        optimizers.info(name)
    for name in config.lr:
        if name not in config.names:
            raise ValueError(f"--lr {name}=...: '{name}' is not among the compared optimizers")
        if not (isinstance(config.lr[name], float) and config.lr[name] > 0):
            raise ValueError(f"--lr {name}: the learning rate must be > 0, got {config.lr[name]!r}")
    for p in config.precisions:
        if p not in PRECISIONS:
            raise ValueError(f"unknown precision '{p}' (choose from {', '.join(PRECISIONS)})")
    if not config.seeds:
        raise ValueError("--seeds needs at least one seed")
    if config.workers is not None and config.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {config.workers}")
    if config.target_accuracy is not None and not 0 < config.target_accuracy <= 1:
        raise ValueError(f"the target accuracy is a fraction in (0, 1], got {config.target_accuracy} "
                         "(for 95 %, pass 0.95)")
    for name in config.names:
        validate(config.run_config(name, config.seeds[0]))
    if config.max_accuracy_drop is not None:
        from descentlab.export.int8 import check_max_accuracy_drop

        check_max_accuracy_drop(config.max_accuracy_drop)
        if "int8" not in config.precisions:
            raise ValueError("--max-accuracy-drop controls the INT8 step: add int8 to --precisions")
    if config.precisions:
        from descentlab import infer

        infer.check_device(config.device)
        infer.check_supported(config.precisions, config.device)


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
    check(config)
    if tensorboard is not None:
        tensorboard_log.check_available()
    if data is not None and data.name != config.dataset:
        raise ValueError(f"the data given is named '{data.name}', the settings say dataset '{config.dataset}'")
    out = Path(out_dir)
    group = spread.join()
    dataset = data or datasets.load(config.dataset, data_dir=config.data_dir, seed=config.seeds[0])
    if config.max_accuracy_drop is not None and dataset.task != "classification":
        raise ValueError(f"--max-accuracy-drop needs a classification dataset ('{config.dataset}' is {dataset.task})")
    group.first(_claim, out, config, resume)  # after the data loaded: a bad dataset writes nothing

    lrs, tuned = dict(config.lr), None
    if config.tune_lr:
        tuned = group.first(tune.tune_all, config, dataset, out / "tuning.json", quiet)
        lrs.update({n: t["best_lr"] for n, t in tuned.items()})

    tasks = [(config.run_config(name, seed, lrs.get(name)), str(out / f"{name}-seed{seed}"),
              config.device, tuple(config.precisions), data, config.max_accuracy_drop, tensorboard)
             for seed in config.seeds for name in config.names]
    workers = worker_count(config.workers, len(tasks), group.world_size)
    records = spread.run_all(group, tasks, workers, quiet, _run_all, out)
    if records is None:  # not rank 0
        return None
    results = summarise(dataclasses.replace(config, workers=workers), records, tuned)
    results["timings"] = timings(records, time.perf_counter() - started)
    io.write_json(out / "results.json", results)
    report.write(out, results)
    return results


def saved_settings(out_dir):
    """The settings of the comparison in ``out_dir`` (``--resume`` continues with them);
    under ``torchrun``, rank 0's copy, handed to every rank."""
    return spread.join().first(_read_settings, out_dir)


def _read_settings(out_dir):
    path = Path(out_dir) / "compare.json"
    if not path.is_file():
        raise UserError(f"'{out_dir}' holds no comparison to resume (no compare.json)")
    saved = json.loads(path.read_text())
    unknown = sorted(set(saved) - set(CompareConfig.__dataclass_fields__))
    if unknown:
        raise UserError(f"'{path}' has settings this descentlab does not know ({', '.join(unknown)}): "
                        "it was written by another version")
    for key in ("optimizers", "seeds", "precisions"):
        if key in saved:
            saved[key] = tuple(saved[key])
    return CompareConfig(**saved)


def _claim(out, config, resume):
    """Refuse to mix two comparisons in one directory, or to start one where nothing can be written."""
    io.check_writable_dir(out)
    settings = out / "compare.json"
    wanted = json.loads(json.dumps(dataclasses.asdict(config)))
    if settings.is_file():
        if not resume:
            raise UserError(f"'{out}' already holds a comparison: pass --resume to continue it, "
                            "or choose another --out")
        # a setting added since that compare.json was written has its default
        saved = {**json.loads(json.dumps(dataclasses.asdict(CompareConfig()))), **json.loads(settings.read_text())}
        saved.pop("workers", None), wanted.pop("workers")
        if saved != wanted:
            diff = sorted(k for k in wanted if saved.get(k) != wanted[k])
            raise UserError(f"'{out}' holds a comparison with other settings ({', '.join(diff)}); "
                            "use another --out")
        io.remove_temporaries(out)  # of the killed process this resumes
        return
    io.write_json(settings, dataclasses.asdict(config))


def usable_cores():
    """How many CPU cores this process may run on (its affinity mask, where the OS has one)."""
    cores = distributed.cpu_cores()
    return len(cores) if cores is not None else (os.cpu_count() or 1)


def worker_count(workers, runs, ranks=1):
    """``workers``, or for None (automatic) one process per core, each with one torch thread,
    as long as every worker gets at least two runs: a worker's start-up (importing torch and
    OpenVINO, loading the data, a few seconds) is paid back only over several runs, and a
    comparison of one or two runs stays in this process with all the cores' threads.
    Under ``torchrun`` the ranks are the processes: one worker each."""
    if workers is not None:
        return workers
    if ranks > 1:
        return 1
    return max(1, min(usable_cores(), runs // 2))


def timings(records, wall):
    """Where a comparison's time went: its wall seconds (in this call, after the process
    started) and, summed over the runs that recorded them, the seconds of each phase of a run
    (training steps, validation, checkpoints, test, data and warm-up, export, OpenVINO).
    With several workers the phases overlap, so they add up to more than the wall time."""
    phases = {}
    for record in records:
        for phase, seconds in record.get("timings", {}).items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    return {"wall": wall, "phases": phases}


def _run_all(tasks, workers, quiet):
    progress = Progress(len(tasks), quiet)
    records = [None] * len(tasks)
    if workers == 1:
        with _library_output(quiet):
            for i, task in enumerate(tasks):
                records[i] = run_task(task, progress)
                progress.advance(f"{records[i]['optimizer']} seed {records[i]['seed']} done")
    else:
        # spawn, not fork: forking a process whose torch thread pools already
        # run (the learning-rate search ran in this one) can hang the children.
        context = multiprocessing.get_context("spawn")
        started = context.Value("i", 0)  # how many workers have started: the next one's index
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=_init_worker, initargs=(workers, quiet, started)) as pool:
            running = {pool.submit(run_task, tasks[i]): i for i in _longest_first(tasks)}
            try:
                for future in as_completed(running):
                    records[running[future]] = record = future.result()
                    progress.advance(f"{record['optimizer']} seed {record['seed']} done")
            except BaseException:  # a run failed: the runs not started yet never start
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    progress.close()
    return records


def _longest_first(tasks):
    """The order in which the workers take the runs: the line search (a forward pass per
    candidate step on every batch, twice a run's time or more) first, so that no worker is
    left alone with it at the end while the others idle."""
    return sorted(range(len(tasks)), key=lambda i: not optimizers.info(tasks[i][0].optimizer).needs_closure)


@contextlib.contextmanager
def _library_output(quiet):
    """Libraries' progress bars (NNCF draws rich bars on stdout while it quantizes) go to
    stderr, beside ours, and nowhere with ``quiet``: stdout keeps the final summary alone."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink if quiet else sys.stderr):
        yield


def _init_worker(workers, quiet, started):
    _die_with_parent()
    with started.get_lock():
        index = started.value
        started.value += 1
    cores = worker_cores(index, workers)
    if cores:
        os.sched_setaffinity(0, cores)
    import torch

    torch.set_num_threads(len(cores) if cores else max(1, usable_cores() // workers))
    torch.set_num_interop_threads(1)
    # a worker prints nothing of its own: what libraries print follows _library_output
    sys.stdout = open(os.devnull, "w") if quiet else sys.stderr


def worker_cores(index, workers):
    """The cores worker ``index`` of ``workers`` runs on: its own share of this process's
    cores, so that what it runs besides torch (ONNX Runtime's check, NNCF, OpenVINO, which
    size their thread pools from the cores a process may use) stays off the other workers'
    cores. Empty (no pinning) where the OS has no affinity or there are more workers than cores."""
    cores = distributed.cpu_cores()
    if cores is None or workers > len(cores):
        return set()
    return set(cores[index * len(cores) // workers:(index + 1) * len(cores) // workers])


def _die_with_parent():
    """On Linux, a worker is killed when the comparison's process dies (even by SIGKILL):
    an orphan would go on writing a run's files while ``--resume`` trains the same run."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


@functools.lru_cache(maxsize=4)
def _dataset(name, data_dir, seed):
    return datasets.load(name, data_dir=data_dir, seed=seed)


def run_task(task, progress=None):
    """Train, export and score one run; reuse ``run.json`` when it is already complete."""
    config, run_dir, device, precisions, data, max_accuracy_drop, tensorboard = task
    run_dir = Path(run_dir)
    done = run_dir / RUN_RESULT
    if done.is_file():
        return json.loads(done.read_text())
    clock = Clock()
    with clock("data and warm-up"):
        dataset = data or _dataset(config.dataset, config.data_dir, config.seed)
        _warm_up(config, dataset)

    def on_epoch(epoch, history):
        if progress is not None:
            acc = history.val_accuracy[-1]
            metric = f"val acc {acc:.3f}" if acc is not None else f"val loss {history.val_loss[-1]:.4f}"
            progress.show(f"{config.optimizer} seed {config.seed} epoch {epoch}/{config.epochs} {metric}")
        if log is not None:
            log.epoch(history)

    log = tensorboard_log.RunLog(tensorboard, config.optimizer, config.seed) if tensorboard else None
    try:
        record = train_run(config, dataset, out_dir=run_dir, resume=True, on_epoch=on_epoch,
                           on_step=log.step if log is not None else None)
        record["openvino"] = deploy(run_dir, dataset, record, device, precisions, max_accuracy_drop, clock)
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


def summarise(config, records, tuning=None):
    """The whole comparison as results.json stores it, with one summary row per optimizer
    and the significance verdict (``stats.verdict``: a winner, or the group tied with the best)."""
    summary = []
    for name in config.names:
        runs = [r for r in records if r["optimizer"] == name]
        summary.append(_summary_row(name, runs, config.precisions))
    summary.sort(key=lambda row: _sort_key(row))
    classified = any(row["test_accuracy_mean"] is not None for row in summary)
    metric = "test_accuracy_mean" if classified else "test_loss_mean"
    for row, rank in zip(summary, stats.ranks([r[metric] for r in summary], higher_is_better=classified)):
        row["rank"] = rank
    significance = _significance(summary, records, classified)
    for row in summary:
        row["tied_with_best"] = row["optimizer"] in significance["tied"]
        row["p_vs_best"] = significance["p_values"].get(row["optimizer"])
    target = config.target_accuracy
    if target is None:
        target = report.default_target(summary)
    for row in summary:
        runs = [r for r in records if r["optimizer"] == row["optimizer"]]
        row["epochs_to_target"] = _mean_count([_epochs_to(r, target) for r in runs])
    import torch

    return {
        "dataset": config.dataset, "model": config.model, "model_kwargs": config.model_kwargs,
        "device": config.device, "epochs": config.epochs,
        "batch_size": "full" if config.batch_size is None else config.batch_size,
        "seeds": list(config.seeds), "schedule": config.schedule, "tune_lr": config.tune_lr,
        "tune_epochs": config.tune_epochs if config.tune_lr else None,
        "precisions": list(config.precisions), "max_accuracy_drop": config.max_accuracy_drop,
        "target_accuracy": target, "significance": significance,
        "summary": summary, "runs": records, "tuning": tuning,
        "environment": {"torch": torch.__version__, "python": platform.python_version(),
                        "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                        "workers": config.workers, "machine": platform.processor() or platform.machine()},
    }


def _significance(summary, records, classified):
    """``stats.verdict`` on the finished optimizers, best first: per-seed test accuracy
    (test loss for regression) and, for McNemar, the one seed's per-example hits."""
    key = "test_accuracy" if classified else "test_loss"
    finished = [row["optimizer"] for row in summary
                if row[f"{key}_mean"] is not None and row["diverged_runs"] < row["runs"]]
    per_seed = {n: {r["seed"]: r["torch"][key] for r in records if r["optimizer"] == n} for n in finished}
    per_example = {n: io.unpack_bools(r["torch"]["test_correct"]) for n in finished
                   for r in records if r["optimizer"] == n and "test_correct" in r["torch"]}
    verdict = stats.verdict(finished, per_seed, per_example if len(per_example) == len(finished) else None)
    verdict["confidence"] = stats.CONFIDENCE
    return verdict


def _summary_row(name, runs, precisions):
    accs = [r["torch"]["test_accuracy"] for r in runs if r["torch"]["test_accuracy"] is not None]
    losses = [r["torch"]["test_loss"] for r in runs]
    row = {
        "optimizer": name,
        "lr": runs[0]["hparams"].get("lr"),
        "runs": len(runs),
        "diverged_runs": sum(r["diverged"] for r in runs),
        "test_accuracy_mean": _mean(accs), "test_accuracy_std": _std(accs),
        **_interval(accs, [r["torch"] for r in runs]),
        "test_loss_mean": _mean(losses), "test_loss_std": _std(losses),
        "best_epoch": _mean_count([r["best_epoch"] for r in runs]),
        "seconds_per_epoch": _mean([r["seconds_per_epoch"] for r in runs]),
        "openvino": {},
    }
    for p in precisions:
        entries = [r["openvino"][p] for r in runs if p in r.get("openvino", {})]
        ov = [e["test_accuracy"] for e in entries if e["test_accuracy"] is not None]
        row["openvino"][p] = {"test_accuracy_mean": _mean(ov), "test_accuracy_std": _std(ov),
                              **deployed.summary(entries)}
    if "fp32" in precisions:
        for p in precisions:
            if p != "fp32":
                row["openvino"][p]["vs_fp32"] = precision_difference(runs, p, "fp32")
    return row


def precision_difference(runs, precision, reference):
    """``precision`` − ``reference`` test accuracy of one optimizer's runs, and whether it is
    within test-set noise: McNemar's exact test on the per-example hits, pooled over seeds
    (the question is whether the conversion changes predictions, not the seed)."""
    pairs = [(r["openvino"][precision]["test_correct"], r["openvino"][reference]["test_correct"])
             for r in runs if "test_correct" in r.get("openvino", {}).get(precision, {})
             and "test_correct" in r["openvino"].get(reference, {})]
    if not pairs:
        return {"difference": None, "p_value": None, "within_noise": None}
    a = np.concatenate([io.unpack_bools(x) for x, _ in pairs])
    b = np.concatenate([io.unpack_bools(y) for _, y in pairs])
    p = stats.mcnemar_p(a, b)
    return {"difference": float(a.mean() - b.mean()), "p_value": p, "within_noise": p >= stats.ALPHA}


def _interval(accs, torch_results):
    """The 95 % interval of the test accuracy: over seeds (Student t) with two or more,
    over the test examples (Clopper-Pearson) with one."""
    if len(accs) >= 2:
        return {"test_accuracy_ci": list(stats.mean_ci(accs)), "ci_over": "seeds"}
    hits = [t["test_correct"] for t in torch_results if "test_correct" in t]
    if len(accs) == 1 and len(hits) == 1:
        return {"test_accuracy_ci": list(stats.proportion_ci(io.unpack_bools(hits[0]))),
                "ci_over": "test examples"}
    return {"test_accuracy_ci": None, "ci_over": None}


def _sort_key(row):
    acc, loss = row["test_accuracy_mean"], row["test_loss_mean"]
    if acc is not None:
        return (-acc, loss if loss is not None else math.inf)
    return (loss if loss is not None else math.inf,)


def _epochs_to(record, target):
    return None if target is None else History.from_dict(record["history"]).epochs_to(target)


def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def _mean(values):
    values = _finite(values)
    return statistics.fmean(values) if values else None


def _mean_count(values):
    """The mean of whole numbers (epochs), kept an integer when it is one."""
    mean = _mean(values)
    return int(mean) if mean is not None and mean.is_integer() else mean


def _std(values):
    values = _finite(values)
    return statistics.stdev(values) if len(values) > 1 else (0.0 if values else None)
