"""The whole route for one checkpoint: torch -> ONNX -> IR FP32/FP16 -> NNCF INT8 + manifest.

Every hop is compared with the PyTorch logits on the same example batch (the
first ``EXAMPLE_BATCH`` validation samples) and, for a classification dataset,
scored on the whole validation split (``score=False`` skips that scoring: a
comparison scores every deployed model on the test split right after, and
NNCF's accuracy control scores on the validation split whenever it runs). Everything is built in a temporary
directory beside ``out_dir`` and moved in at the end (``staging.py``): a failed
export leaves ``out_dir`` as it was.
"""

import time
from pathlib import Path

from descentlab.io import check_writable_dir

from . import manifest
from .int8 import check_max_accuracy_drop, quantize_int8
from .onnx_export import to_onnx
from .openvino_ir import FILES as IR_FILES
from .openvino_ir import accuracy, compile_f32, infer, predict, to_openvino
from .staging import staged

PRECISIONS = ("fp32", "fp16", "int8")
EXAMPLE_BATCH = 64
FILES = {"onnx": "model.onnx", **IR_FILES, "int8": "model_int8.xml"}
# every file an export owns in out_dir (the checkpoint may live there too, and stays)
OUTPUTS = (FILES["onnx"], manifest.NAME,
           *(f"{Path(FILES[p]).stem}{suffix}" for p in PRECISIONS for suffix in (".xml", ".bin")))


def parse_precisions(precisions):
    """``"fp32,int8"`` or an iterable -> the precisions in pipeline order; ``ValueError`` on an unknown one."""
    names = precisions.split(",") if isinstance(precisions, str) else list(precisions)
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in PRECISIONS]
    if unknown or not names:
        raise ValueError(f"unknown precision '{unknown[0] if unknown else ''}' (choose from {', '.join(PRECISIONS)})")
    return tuple(p for p in PRECISIONS if p in names)


def export_checkpoint(checkpoint_path, out_dir, precisions=PRECISIONS, data_dir=None, max_accuracy_drop=None,
                      data=None, score=True):
    """Export the checkpoint into ``out_dir``; return the manifest dict (also ``out_dir/manifest.json``).

    ``data_dir`` overrides the checkpoint's data directory (calibration and
    validation data); ``data``, a loaded ``train.datasets.Dataset``, is used
    instead of loading the checkpoint's dataset (a comparison has it in memory;
    a user's own data has no name to load it by). ``max_accuracy_drop`` (a
    fraction, 0.01 = 1 point) turns on NNCF's accuracy-controlled quantization.
    ``score=False`` leaves every hop's ``val_accuracy`` None (the checks against the
    PyTorch logits run all the same).
    """
    precisions = parse_precisions(precisions)
    check_max_accuracy_drop(max_accuracy_drop)
    check_writable_dir(out_dir)
    import numpy as np  # after the argument checks: a typo fails before seconds of imports
    import torch

    from descentlab.train import checkpoint as checkpoints
    from descentlab.train import datasets

    ckpt = checkpoints.load(checkpoint_path)
    try:
        model = checkpoints.rebuild_model(ckpt)
    except RuntimeError as exc:  # load_state_dict: the weights do not fit the model the checkpoint names
        reason = " ".join(line.strip() for line in str(exc).splitlines()[1:2])
        raise ValueError(f"checkpoint '{checkpoint_path}' holds weights that do not fit the model it names, "
                         f"'{ckpt['model']['name']}' ({reason.rstrip('.')}); export the checkpoint "
                         "`descentlab train` wrote for that model") from None
    spec = ckpt["dataset"]
    if data is None:
        data = datasets.load(spec["name"], data_dir=data_dir or spec["data_dir"], seed=spec["seed"])
    if tuple(data.input_shape) != tuple(ckpt["model"]["input_shape"]):
        raise ValueError(f"dataset '{spec['name']}' has input shape {tuple(data.input_shape)}, the checkpoint's "
                         f"model expects {tuple(ckpt['model']['input_shape'])}")
    classified = data.task == "classification"
    scored = classified and score
    if max_accuracy_drop is not None and not (classified and "int8" in precisions):
        raise ValueError("max_accuracy_drop needs int8 among the precisions and a classification dataset")
    validation = (data.val.x.numpy(), data.val.y.numpy()) if classified else None
    int8_validation = validation if scored or max_accuracy_drop is not None else None
    example = data.val.x[:EXAMPLE_BATCH]
    with torch.no_grad():
        expected = model(example).numpy()
        torch_accuracy = None
        if scored:  # in batches: a whole validation split through a CNN at once takes GBs
            logits = torch.cat([model(batch) for batch in data.val.x.split(256)]).numpy()
            torch_accuracy = float((predict(logits) == validation[1]).mean())

    seconds = {}
    hops = [_hop("torch", None, None, torch_accuracy)]
    with staged(out_dir, owns=OUTPUTS, last=(manifest.NAME,)) as tmp:
        started = time.perf_counter()
        onnx_report = to_onnx(model, example, tmp / FILES["onnx"])
        seconds["onnx"] = time.perf_counter() - started
        hops.append(_hop("onnx", FILES["onnx"], onnx_report["max_abs_diff"], None, graph=onnx_report["graph"]))

        started = time.perf_counter()
        ir = to_openvino(tmp / FILES["onnx"], tmp, example, expected=expected)
        seconds["openvino"] = time.perf_counter() - started
        for precision in ("fp32", "fp16"):
            if precision in precisions:
                ir_accuracy = accuracy(compile_f32(tmp / FILES[precision]), *validation) if scored else None
                hops.append(_hop(f"ir-{precision}", FILES[precision], ir[precision]["max_abs_diff"], ir_accuracy,
                                 weight_types=ir[precision]["weight_types"]))

        int8 = None
        if "int8" in precisions:
            started = time.perf_counter()
            fp32_score = next((h["val_accuracy"] for h in hops if h["stage"] == "ir-fp32"), None)
            int8 = quantize_int8(tmp / FILES["fp32"], data.train.x.numpy(), tmp / FILES["int8"], seed=spec["seed"],
                                 validation=int8_validation, max_accuracy_drop=max_accuracy_drop,
                                 accuracy_fp32=fp32_score)
            seconds["int8"] = time.perf_counter() - started
            logits = infer(compile_f32(tmp / FILES["int8"]), example.numpy())
            hops.append(_hop("ir-int8", FILES["int8"], float(np.abs(logits - expected).max()),
                             int8["accuracy_int8"]))
            int8 = {k: v for k, v in int8.items() if k != "path"}

        for precision in ("fp32", "fp16"):  # built as steps of the route, but not asked for
            if precision not in precisions:
                for suffix in (".xml", ".bin"):
                    (tmp / FILES[precision]).with_suffix(suffix).unlink()
        built = manifest.build(
            checkpoint_path, ckpt, tmp, [f.name for f in tmp.iterdir()], hops, int8=int8,
            dataset={**spec, "source": data.source, "val_size": len(data.val)},
            seconds={k: round(v, 3) for k, v in seconds.items()}, opset=onnx_report["opset"],
            example_batch=len(example))
        manifest.write(tmp, built)
    return built


def _hop(stage, file, max_abs_diff, val_accuracy, **extra):
    """One row of ``manifest["hops"]``: ``max_abs_diff`` is against the PyTorch logits."""
    return {"stage": stage, "file": file, "max_abs_diff": max_abs_diff, "val_accuracy": val_accuracy, **extra}
