"""A comparison's results as ``results.json`` stores them: one summary row per
optimizer (mean, spread and interval of its seeds' scores, its OpenVINO
precisions), the ranks and the significance verdict, and where the time went.
"""

import math
import os
import platform
import statistics

import numpy as np

from descentlab import io
from descentlab.compare import deployed, earlier, report, stats
from descentlab.train.history import History


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
    significance = _significance(config, summary, records, classified)
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
        "optimizer_files": dict(config.optimizer_files),
        "device": config.device, "epochs": config.epochs,
        "batch_size": "full" if config.batch_size is None else config.batch_size,
        "seeds": list(config.seeds), "spread_from": config.spread_from,
        "train_precision": earlier.trained_in(records), "schedule": config.schedule, "tune_lr": config.tune_lr,
        "tune_epochs": config.tune_epochs if config.tune_lr else None,
        "precisions": list(config.precisions), "max_accuracy_drop": config.max_accuracy_drop,
        "target_accuracy": target, "significance": significance,
        "summary": summary, "runs": records, "tuning": tuning,
        "environment": {"torch": torch.__version__, "python": platform.python_version(),
                        "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                        "workers": config.workers, "machine": platform.processor() or platform.machine()},
    }


def _significance(config, summary, records, classified):
    """``stats.verdict`` on the finished optimizers, best first: per-seed test accuracy
    (test loss for regression) and, for McNemar, the one seed's per-example hits. With
    ``config.spread_from`` the earlier comparison's seeds join the pairing (``earlier``),
    the best is the best over all of them, and ``pooled`` says which seeds came from where."""
    key = "test_accuracy" if classified else "test_loss"
    finished = [row["optimizer"] for row in summary
                if row[f"{key}_mean"] is not None and row["diverged_runs"] < row["runs"]]
    per_seed = {n: {r["seed"]: r["torch"][key] for r in records if r["optimizer"] == n} for n in finished}
    pooled = None
    if config.spread_from is not None:
        seeds, before = earlier.scores(config.spread_from, key)
        per_seed = {n: {**before.get(n, {}), **per_seed[n]} for n in finished}
        means = {n: _mean(per_seed[n].values()) for n in finished}
        finished.sort(key=lambda n: -means[n] if classified else means[n])
        pooled = {"from": config.spread_from, "earlier_seeds": seeds, "seeds": list(config.seeds), "means": means}
    per_example = {n: io.unpack_bools(r["torch"]["test_correct"]) for n in finished
                   for r in records if r["optimizer"] == n and "test_correct" in r["torch"]}
    verdict = stats.verdict(finished, per_seed, per_example if len(per_example) == len(finished) else None)
    verdict["confidence"] = stats.CONFIDENCE
    verdict["pooled"] = pooled
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


def _mean(values):
    values = [v for v in values if stats.is_measured(v)]
    return statistics.fmean(values) if values else None


def _mean_count(values):
    """The mean of whole numbers (epochs), kept an integer when it is one."""
    mean = _mean(values)
    return int(mean) if mean is not None and mean.is_integer() else mean


def _std(values):
    values = [v for v in values if stats.is_measured(v)]
    return statistics.stdev(values) if len(values) > 1 else (0.0 if values else None)


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
