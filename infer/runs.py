"""Accuracy of every run x precision of an export or compare directory on one device.

The dataset is the one the export manifest (or results.json) names, loaded
with ``train.datasets.load``; its test split is what every IR is scored on,
so the numbers line up with the PyTorch test accuracy of the same run.
"""

import json
from pathlib import Path

from descentlab.errors import UserError

from .devices import check_device
from .evaluate import evaluate
from .files import beside, dataset_name, is_compare_dir, manifest, planned_irs, run_dirs
from .precision import PRECISIONS, check_supported
from .reference import torch_correct


def evaluate_path(path, *, dataset=None, device="CPU", precisions=None, data_dir=None, batch_size=256,
                  cache_dir=None):
    """Score one IR, one export directory or a whole compare directory.

    ``precisions``: any of ``precision.PRECISIONS`` (``native`` and ``bf16`` run
    the FP32 IR); by default every IR file found, plus ``native`` beside an FP32 IR.
    Returns ``{"dataset", "device", "runs": {run name: {precision: evaluate() dict
    without "predicted" + "torch_accuracy" (from results.json, or a run directory's
    run.json; else None) + "delta" (OpenVINO - torch)}}, "correct"}``.
    ``correct`` (numpy, not for JSON) holds ``{run: {"torch": per-example hits of the
    checkpoint's PyTorch model or None, precision: per-example hits or None}}`` for
    paired tests. A single IR or export directory is one run named after its
    directory; without a recorded PyTorch accuracy, its checkpoint's is used.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"'{path}' does not exist")
    device = check_device(device)
    compare = is_compare_dir(path)
    runs = run_dirs(path) if compare else {(path if path.is_dir() else path.parent).name: path}
    planned = {run: planned_irs(location, precisions) for run, location in runs.items()}
    check_supported({p for plan in planned.values() for p in plan}, device)
    name = dataset or _dataset_of(path, runs, compare)
    x, y, task = _test_split(name, data_dir if data_dir is not None else _recorded_data_dir(runs))
    torch_accuracy = _torch_accuracies(path) if compare else _run_accuracy(runs)
    results, correct = {}, {}
    for run, location in runs.items():
        # the IRs first: their input check gives the clear error when the data does not fit
        results[run] = {precision: evaluate(xml, x, y, device, precision=precision if precision in PRECISIONS else None,
                                            batch_size=batch_size, task=task, cache_dir=cache_dir, examples=True)
                        for precision, xml in planned[run].items()}
        checkpoint = beside(location, "checkpoint.pt")
        correct[run] = {"torch": torch_correct(checkpoint, x, y) if checkpoint and task == "classification" else None}
        reference = torch_accuracy.get(run)
        if reference is None and correct[run]["torch"] is not None:
            reference = float(correct[run]["torch"].mean())
        for precision, entry in results[run].items():
            correct[run][precision] = entry.pop("correct", None)
            entry["torch_accuracy"] = reference
            entry["delta"] = (entry["accuracy"] - reference
                              if reference is not None and entry["accuracy"] is not None else None)
    return {"dataset": name, "device": device, "runs": results, "correct": correct}


def _test_split(name, data_dir):
    from descentlab.train import datasets

    data = datasets.load(name, data_dir=data_dir)
    return data.test.x, data.test.y, data.task


def _dataset_of(path, runs, compare):
    for location in runs.values():
        found = dataset_name(manifest(location if location.is_dir() else location.parent))
        if found:
            return found
    if compare:
        found = json.loads((path / "results.json").read_text()).get("dataset")
        if found:
            return found
    raise UserError(f"no manifest.json beside '{path}' names the dataset; pass --dataset")


def _recorded_data_dir(runs):
    """The data directory the training run used, as its export manifest records it."""
    for location in runs.values():
        dataset = manifest(location if location.is_dir() else location.parent).get("dataset")
        if isinstance(dataset, dict) and dataset.get("data_dir"):
            return dataset["data_dir"]
    return None


def _torch_accuracies(compare_dir):
    runs = json.loads((compare_dir / "results.json").read_text()).get("runs", [])
    return {f"{r['optimizer']}-seed{r['seed']}": (r.get("torch") or {}).get("test_accuracy")
            for r in runs}


def _run_accuracy(runs):
    """PyTorch test accuracy of a single run, from the run.json `descentlab train` writes beside it."""
    (run, location), = runs.items()
    record = (location if location.is_dir() else location.parent) / "run.json"
    if not record.is_file():
        return {}
    return {run: (json.loads(record.read_text()).get("torch") or {}).get("test_accuracy")}
