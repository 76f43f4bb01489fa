"""Hop 2: ONNX -> OpenVINO IR, saved twice: real FP32 and FP16-compressed weights.

``ov.save_model`` compresses weights to FP16 unless told not to (logits then
differ from PyTorch by up to 2.2e-3), so the FP32 baseline is saved with ``compress_to_fp16=False`` and
its constants are read back to prove they are f32. Both IRs are compiled with
``INFERENCE_PRECISION_HINT=f32``: on a CPU that advertises BF16 the plugin would
otherwise compute in bf16, so the measured delta would be the runtime's, not
the file's.
"""

from pathlib import Path

from .staging import staged
from .tolerance import allowed

FILES = {"fp32": "model_fp32.xml", "fp16": "model_fp16.xml"}


def to_openvino(onnx_path, out_dir, example, expected=None):
    """Write ``model_fp32.xml/.bin`` and ``model_fp16.xml/.bin`` into ``out_dir``.

    ``expected``: the PyTorch logits for ``example``; without it ONNX Runtime's
    logits on ``onnx_path`` are the reference (``report["reference"]`` says which).
    Returns ``{"reference", "fp32": {"path", "max_abs_diff", "weight_types"}, "fp16": {...}}``.
    Raises ``ValueError`` when the FP32 IR differs by more than ``tolerance.allowed`` (1e-4 times the logits' scale).
    """
    import numpy as np
    import openvino as ov

    x = np.asarray(example, dtype=np.float32)
    reference = "torch" if expected is not None else "onnxruntime"
    expected = np.asarray(expected) if expected is not None else _onnxruntime_logits(onnx_path, x)
    model = ov.convert_model(str(onnx_path))
    report = {"reference": reference}
    out_dir = Path(out_dir)
    with staged(out_dir) as tmp:
        for precision, name in FILES.items():
            ov.save_model(model, tmp / name, compress_to_fp16=(precision == "fp16"))
            saved = ov.Core().read_model(tmp / name)
            compiled = compile_f32(saved)
            # batch 1 as well: the IR must keep the batch axis dynamic
            diff = max(float(np.abs(infer(compiled, batch) - expected[:len(batch)]).max()) for batch in (x, x[:1]))
            report[precision] = {"path": str(out_dir / name), "max_abs_diff": diff,
                                 "weight_types": weight_types(saved)}
        if report["fp32"]["weight_types"] != ["f32"]:
            raise RuntimeError(f"the FP32 IR holds {report['fp32']['weight_types']} weights")
        limit = allowed(expected)
        if not report["fp32"]["max_abs_diff"] <= limit:
            raise ValueError(f"the FP32 IR differs from {reference} by {report['fp32']['max_abs_diff']:.3g} "
                             f"(> {limit:.3g})")
    return report


def compile_f32(model):
    """Compile for the CPU with f32 arithmetic (the plugin's default here is bf16)."""
    import openvino as ov
    import openvino.properties.hint as hints

    return ov.Core().compile_model(model, "CPU", {hints.inference_precision: ov.Type.f32})


def infer(compiled, x):
    return compiled(x)[0]


def predict(logits):
    """Class indices: the arg-max logit, or for a single sigmoid output (the lecture
    neuron, ``models/neuron.py``) whether P(class 1) exceeds 0.5."""
    return logits.argmax(1) if logits.shape[1] > 1 else (logits[:, 0] > 0.5).astype(int)


def accuracy(compiled, x, y, batch_size=256):
    """Fraction of ``x`` whose predicted class is the label ``y``."""
    import numpy as np

    predicted = np.concatenate([predict(infer(compiled, x[i:i + batch_size])) for i in range(0, len(x), batch_size)])
    return float((predicted == np.asarray(y)).mean())


def weight_types(model):
    """Sorted element types of the model's floating-point constants, e.g. ``["f32"]``."""
    return sorted({op.get_element_type().get_type_name() for op in model.get_ops()
                   if op.get_type_name() == "Constant" and op.get_element_type().is_real()})


def _onnxruntime_logits(onnx_path, x):
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]
