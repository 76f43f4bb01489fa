"""``bench``: OpenVINO latency and throughput beside PyTorch eager and ONNX Runtime.

For an export directory every IR precision (fp32, fp16, int8) is timed, and
the FP32 IR again as the device runs it by default (``native``: bf16 on CPUs
with AVX512-BF16, f16 on GPUs; see ``precision.py``), then the PyTorch model
rebuilt from ``checkpoint.pt`` and ``model.onnx`` under ONNX Runtime, all on
the same random inputs and the same thread count. PyTorch and ONNX Runtime
run the FP32 model in f32 only: the fp16 and int8 files are OpenVINO IRs.
Every row records the precision it really computed in (``execution``).
A compare directory's runs share one architecture, so its first run is timed.
"""

import os
from pathlib import Path

import numpy as np

from descentlab.train.precision import cpu_flags

from .bench_onnxruntime import bench_onnx
from .bench_openvino import bench_ir
from .bench_torch import bench_checkpoint
from .devices import check_device
from .files import beside, input_shape, is_compare_dir, manifest, planned_irs, run_dirs
from .precision import PINNED, PRECISIONS, check_supported
from .runtime import read_model, sample_shape

HINTS = ("latency", "throughput")


def bench(path, *, seconds=5.0, batch=64, hint="throughput", nireq=None, device="CPU", threads=None,
          precisions=None):
    """Time every backend on the IRs at ``path``; one row per backend x precision.

    ``precisions``: the OpenVINO rows (``precision.PRECISIONS``; default every IR
    file found, plus ``native`` beside an FP32 IR).
    ``seconds`` is the duration of each measurement (latency, then throughput).
    The result records the CPU's instruction-set flags (``train.precision.cpu_flags``).
    Rows carry ``execution`` (the precision each device computed in),
    ``latency`` (ms statistics at batch 1), ``throughput`` (fps at ``batch``),
    ``load_ms``, ``first_inference_ms``, ``device_name`` and the speed-ups
    against PyTorch eager; a backend that cannot run has ``skipped``.
    """
    _check_options(seconds, batch, hint, nireq, threads)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"'{path}' does not exist")
    device = check_device(device)
    run = None
    if is_compare_dir(path):
        run, path = next(iter(run_dirs(path).items()))
    found = planned_irs(path, precisions)
    check_supported(found, device)
    threads = threads or len(os.sched_getaffinity(0))
    one, many = _inputs(path, next(iter(found.values())), batch)

    rows = [{"backend": "openvino", "precision": precision, "file": str(xml), "skipped": None,
             **bench_ir(xml, one, many, device=device, seconds=seconds, hint=hint, nireq=nireq, threads=threads,
                        precision=precision if precision in PRECISIONS else "fp32")}
            for precision, xml in found.items()]
    rows.append(_other("pytorch", beside(path, "checkpoint.pt"), bench_checkpoint, one, many, seconds, threads))
    rows.append(_other("onnxruntime", beside(path, "model.onnx"), bench_onnx, one, many, seconds, threads))
    _add_speedups(rows)
    return {"path": str(path), "run": run, "device": device, "cpu_flags": cpu_flags(), "threads": threads,
            "seconds": seconds, "batch": batch, "hint": hint, "nireq": nireq,
            "input_shape": list(one.shape[1:]), "rows": rows}


def _check_options(seconds, batch, hint, nireq, threads):
    if not seconds > 0:
        raise ValueError(f"the duration must be positive, got {seconds}")
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"the batch size must be a positive integer, got {batch!r}")
    if hint not in HINTS:
        raise ValueError(f"unknown hint '{hint}' (expected {' or '.join(HINTS)})")
    for name, value in (("nireq", nireq), ("threads", threads)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _inputs(path, xml, batch):
    """Seeded random samples of the model's input shape: one at batch 1, one at ``batch``."""
    shape = sample_shape(read_model(xml))
    if -1 in shape:
        recorded = input_shape(manifest(path if path.is_dir() else path.parent))
        if not recorded:
            raise ValueError(f"'{xml}' has a dynamic sample shape and no manifest.json gives the input shape")
        shape = recorded
    many = np.random.default_rng(0).random((batch, *shape), dtype=np.float32)
    return np.ascontiguousarray(many[:1]), many


def _other(backend, source, run, one, many, seconds, threads):
    row = {"backend": backend, "precision": "fp32", "file": str(source) if source else None}
    if source is None:
        wanted = "checkpoint.pt" if backend == "pytorch" else "model.onnx"
        return {**row, "skipped": f"no {wanted} beside the IR"}
    return {**row, "skipped": None, "execution": {"CPU": PINNED},
            **run(source, one, many, seconds=seconds, threads=threads)}


def _add_speedups(rows):
    """``latency_speedup`` = torch median / row median; ``throughput_speedup`` = row fps / torch fps."""
    torch = next((r for r in rows if r["backend"] == "pytorch" and not r["skipped"]), None)
    for row in rows:
        if torch is None or row["skipped"]:
            row["latency_speedup"] = row["throughput_speedup"] = None
            continue
        row["latency_speedup"] = torch["latency"]["median_ms"] / row["latency"]["median_ms"]
        row["throughput_speedup"] = row["throughput"]["fps"] / torch["throughput"]["fps"]
