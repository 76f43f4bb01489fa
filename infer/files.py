"""Where the IR files are: one IR, an export directory, or a compare directory.

The export stage writes ``model.onnx``, ``model_{fp32,fp16,int8}.xml/.bin``,
``manifest.json`` and possibly ``checkpoint.pt`` into one directory; a
compare directory holds ``results.json`` and one such directory per run,
``<optimizer>-seed<k>/`` (the layout the README's "main job" section documents).
"""

import json
import re
from pathlib import Path

from . import precision

PRECISIONS = ("fp32", "fp16", "int8")  # the IR files; precision.PRECISIONS adds the ways to run them
RUN_DIR = re.compile(r"^(?P<optimizer>.+)-seed(?P<seed>\d+)$")


def precision_of(xml):
    """'fp16' for ``model_fp16.xml``; None when the name does not say."""
    match = re.fullmatch(r"model_(\w+)", Path(xml).stem)
    return match.group(1) if match and match.group(1) in PRECISIONS else None


def irs(path):
    """``{precision: xml}`` for an IR file or an export directory, in fp32, fp16, int8 order."""
    path = Path(path)
    if path.is_file():
        return {precision_of(path) or path.stem: path}
    if not path.is_dir():
        raise FileNotFoundError(f"'{path}' does not exist")
    found = {p: path / f"model_{p}.xml" for p in PRECISIONS if (path / f"model_{p}.xml").is_file()}
    if not found:
        raise FileNotFoundError(f"'{path}' holds no model_fp32/fp16/int8.xml IR files")
    return found


def is_compare_dir(path):
    return Path(path).is_dir() and (Path(path) / "results.json").is_file()


def run_dirs(compare_dir):
    """``{run name: directory}`` of a compare directory, in results.json's order."""
    compare_dir = Path(compare_dir)
    try:
        results = json.loads((compare_dir / "results.json").read_text())
        names = [f"{r['optimizer']}-seed{r['seed']}" for r in results["runs"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"'{compare_dir / 'results.json'}' is not a readable compare result "
                         f"({type(exc).__name__}: {exc})") from None
    # Runs listed in results.json first; run directories it does not list (an interrupted compare) after.
    names += sorted(p.name for p in compare_dir.iterdir()
                    if p.is_dir() and RUN_DIR.match(p.name) and p.name not in names)
    found = {n: compare_dir / n for n in names if (compare_dir / n).is_dir()}
    if not found:
        raise FileNotFoundError(f"compare directory '{compare_dir}' holds no <optimizer>-seed<k> run directories")
    return found


def manifest(directory):
    """The export manifest of ``directory`` as a dict; {} when there is none."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise ValueError(f"'{path}' is not valid JSON") from None


def dataset_name(info):
    """The dataset name a manifest (or checkpoint dataset entry) records, else None."""
    dataset = info.get("dataset")
    return dataset.get("name") if isinstance(dataset, dict) else dataset


def input_shape(info):
    """The per-sample input shape a manifest records (``input.shape`` without "batch"), else None."""
    shape = (info.get("input") or {}).get("shape")
    return tuple(shape[1:]) if shape else None


def beside(ir_or_dir, name):
    """``name`` in the export directory of an IR file or directory, if it exists."""
    path = Path(ir_or_dir)
    candidate = (path if path.is_dir() else path.parent) / name
    return candidate if candidate.is_file() else None


def planned_irs(location, precisions):
    """``{precision: IR file}`` to run at ``location`` (an IR or an export directory).

    ``precisions``: names from ``precision.PRECISIONS``; None: every IR file found,
    plus ``native`` beside an FP32 IR. ``FileNotFoundError`` when an IR they need is missing.
    """
    found = irs(location)
    if precisions is None:
        if not set(found) & set(precision.PRECISIONS):  # one IR whose name does not say its precision
            return found
        wanted = [p for p in precision.PRECISIONS
                  if precision.ir_precision(p) in found and (p in found or p == "native")]
    else:
        asked = {precision.check_precision(p) for p in precisions}
        wanted = [p for p in precision.PRECISIONS if p in asked]
    missing = sorted({precision.ir_precision(p) for p in wanted} - set(found))
    if missing:
        raise FileNotFoundError(f"'{location}' holds no {missing[0]} IR "
                                f"(model_{missing[0]}.xml) for the precisions asked")
    return {p: found[precision.ir_precision(p)] for p in wanted}
