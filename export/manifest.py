"""``manifest.json``: what an export directory holds, where it came from, and what each hop cost.

Written last and atomically (``descentlab.io``), so a directory whose manifest
names a file holds that file as the manifest describes it.
"""

import datetime
from pathlib import Path

FORMAT = "descentlab.export/1"
NAME = "manifest.json"
TOOLS = ("torch", "onnx", "onnxscript", "onnxruntime", "openvino", "nncf")


def build(checkpoint_path, checkpoint, files_dir, files, hops, int8=None, dataset=None, seconds=None,
          opset=None, example_batch=None):
    """The manifest dict; ``files``: the file names in ``files_dir`` the export produced."""
    from descentlab.train.checkpoint import sha256

    files_dir = Path(files_dir)
    spec = checkpoint["model"]
    return {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": {"checkpoint": str(Path(checkpoint_path).resolve()), "sha256": sha256(checkpoint_path),
                   "epoch": checkpoint["epoch"]},
        "model": {"name": spec["name"], "kwargs": spec["kwargs"], "num_classes": spec["num_classes"]},
        "optimizer": {"name": checkpoint["optimizer"]["name"], "hparams": checkpoint["optimizer"]["hparams"]},
        "dataset": dataset or checkpoint["dataset"],
        "input": {"name": "x", "shape": ["batch", *spec["input_shape"]], "dtype": "float32"},
        "output": {"name": "logits", "shape": ["batch", spec["num_classes"]]},
        "opset": opset,
        "example_batch": example_batch,
        "tools": tool_versions(),
        "files": {name: {"bytes": (files_dir / name).stat().st_size} for name in sorted(files)},
        "hops": hops,
        "int8": int8,
        "seconds": seconds,
    }


def tool_versions():
    import importlib.metadata

    return {tool: importlib.metadata.version(tool) for tool in TOOLS}


def write(directory, manifest):
    from descentlab.io import write_json

    write_json(Path(directory) / NAME, manifest)
