"""A comparison's settings and its output directory: the settings checked before
any training, ``compare.json`` claimed (or, with ``--resume``, matched), and the
saved settings read back.

The output directory::

    compare.json            the settings (checked again on --resume)
    tuning.json             the learning-rate search, with --tune-lr
    <optimizer>-seed<k>/    checkpoint.pt, run.json, model.onnx, model_<p>.xml/.bin, manifest.json
    results.json, report.md, *.png

Every file is written atomically, and ``run.json`` only when a run is
complete, so a comparison killed at any moment resumes with ``--resume``:
finished runs are read back, an interrupted run continues from its last epoch.
"""

import dataclasses
import json
from pathlib import Path

from descentlab import io
from descentlab import optimizers
from descentlab.compare import earlier, spread
from descentlab.compare.settings import PRECISIONS, CompareConfig
from descentlab.errors import UserError
from descentlab.train.run import validate


def check(config):
    """Everything that can be wrong with the settings, before any training."""
    config.register_files()
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
    if config.spread_from is not None:
        earlier.check(config)
    if config.max_accuracy_drop is not None:
        from descentlab.export.int8 import check_max_accuracy_drop

        check_max_accuracy_drop(config.max_accuracy_drop)
        if "int8" not in config.precisions:
            raise ValueError("--max-accuracy-drop controls the INT8 step: add int8 to --precisions")
    if config.precisions:
        from descentlab import infer

        infer.check_device(config.device)
        infer.check_supported(config.precisions, config.device)


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


def claim(out, config, resume):
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
