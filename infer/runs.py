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
from .files import dataset_name, irs, is_compare_dir, manifest, run_dirs


def evaluate_path(path, *, dataset=None, device="CPU", data_dir=None, batch_size=256, cache_dir=None):
    """Score one IR, one export directory or a whole compare directory.

    Returns ``{"dataset", "device", "runs": {run name: {precision: evaluate() dict
    + "torch_accuracy" (from results.json, or a run directory's run.json; else None) + "delta" (OpenVINO - torch)}}}``.
    A single IR or export directory is one run named after its directory.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"'{path}' does not exist")
    device = check_device(device)
    compare = is_compare_dir(path)
    runs = run_dirs(path) if compare else {(path if path.is_dir() else path.parent).name: path}
    name = dataset or _dataset_of(path, runs, compare)
    x, y, task = _test_split(name, data_dir if data_dir is not None else _recorded_data_dir(runs))
    torch_accuracy = _torch_accuracies(path) if compare else _run_accuracy(runs)
    results = {}
    for run, location in runs.items():
        results[run] = {}
        for precision, xml in irs(location).items():
            entry = evaluate(xml, x, y, device, batch_size=batch_size, task=task,
                             cache_dir=cache_dir)
            reference = torch_accuracy.get(run)
            entry["torch_accuracy"] = reference
            entry["delta"] = (entry["accuracy"] - reference
                              if reference is not None and entry["accuracy"] is not None else None)
            results[run][precision] = entry
    return {"dataset": name, "device": device, "runs": results}


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
