"""The comparison, the top of the pipeline: train one model per optimizer from
the same initial weights and batch order, export each to OpenVINO, score every
precision on a device, and report who wins.

The Python API is one call, with the settings of ``descentlab compare``::

    from descentlab import compare
    results = compare.run(optimizers=("sgd", "adam"), epochs=5, out="runs/mine")

``model`` is a zoo name, ``"package.module:factory"`` or a module-level
function ``factory(input_shape, num_classes, seed) -> nn.Module``; ``data`` is
the user's own data: ``{"train": ..., "test": ..., "val": ...}`` (``val``
optional), each split a pair of tensors ``(x, y)`` or a
``torch.utils.data.Dataset``. The result is the dict ``results.json`` holds.
"""

from descentlab.compare.settings import PRECISIONS, CompareConfig

__all__ = ["run", "CompareConfig", "PRECISIONS"]


def run(out, *, data=None, resume=False, quiet=True, tensorboard=None, **settings):
    """Run the comparison into the directory ``out`` and return its results.

    ``settings`` are the fields of ``CompareConfig`` (``dataset``, ``model``,
    ``optimizers`` (registry names, and optimizer classes defined in a .py file: a
    student's ``Adam`` runs as ``student-adam`` beside ours, see
    ``optimizers.registry.user_name``), ``epochs``, ``batch_size`` (``None`` for full batch),
    ``seeds``, ``lr`` {name: value}, ``tune_lr``, ``schedule``, ``clip_norm``,
    ``train_precision``, ``device``, ``precisions``, ``workers``, ``spread_from``, ...), with the command's
    defaults. ``resume=True`` continues an interrupted comparison in ``out``
    (the same settings and data must be given again). ``tensorboard``: a
    directory for the runs' TensorBoard logs (``descentlab[tensorboard]``).
    """
    from descentlab import models
    from descentlab.compare.runner import run_compare
    from descentlab.train import datasets

    unknown = sorted(set(settings) - set(CompareConfig.__dataclass_fields__))
    if unknown:
        raise TypeError(f"compare.run() got unknown settings {', '.join(unknown)} "
                        f"(known: {', '.join(CompareConfig.__dataclass_fields__)})")
    if callable(settings.get("model")):
        settings["model"] = models.reference(settings["model"])
    if "optimizers" in settings:
        settings["optimizers"], settings["optimizer_files"] = _names_and_files(
            settings["optimizers"], settings.get("optimizer_files", {}))
    for key in ("seeds", "precisions"):
        if key in settings:
            settings[key] = tuple(settings[key])
    if data is not None:
        if not isinstance(data, datasets.Dataset):
            if not isinstance(data, dict) or not {"train", "test"} <= set(data) <= {"train", "val", "test"}:
                raise ValueError("data must be {'train': ..., 'test': ..., 'val': ... (optional)}")
            data = datasets.from_splits(name=settings.get("dataset", "custom"), **data)
        settings["dataset"] = data.name
    return run_compare(CompareConfig(**settings), out, resume=resume, quiet=quiet, data=data,
                       tensorboard=tensorboard)


def _names_and_files(items, files):
    """Registry names as they are; each class replaced by the name it runs under, its file
    recorded (``{name: "FILE.py:Class"}``) for the worker processes and ``--resume``."""
    from descentlab.optimizers import registry

    names, files = [], dict(files)
    for item in items:
        if isinstance(item, type):
            reference = registry.class_reference(item)
            item = registry.register_file(reference)
            files[item] = reference
        names.append(item)
    return tuple(names), files
