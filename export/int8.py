"""Hop 3: NNCF post-training INT8 quantization of the FP32 OpenVINO IR.

Affine 8-bit quantization of weights and activations with scales from a
calibration set (Jacob et al. 2018, "Quantization and Training of Neural
Networks for Efficient Integer-Arithmetic-Only Inference"; NNCF's
``nncf.quantize`` adds fast bias correction).

Calibration: ``subset_size`` samples drawn (seeded) from the training split, fed
one by one. ``OverflowFix.ENABLE`` always: on CPUs without VNNI the 8-bit
multiply-accumulate can saturate (measured: the worst INT8 drop over 24 digits
MLPs went from 3.3 to 0.8 points with it), and the IR may be deployed on such a CPU
whatever machine exported it. With ``max_accuracy_drop`` (a fraction: 0.01 = 1
point) the plain INT8 model is scored on the validation split first; only when
it drops more than that does ``nncf.quantize_with_accuracy_control`` revert the
layers that cost most until the drop is within bounds. The report says whether
that was needed and how many quantizers it reverted. Quantizing the OpenVINO
model, not the torch one, also avoids NNCF's torch-backend failure on a top-level
``nn.Sequential``.
"""

from pathlib import Path

from .openvino_ir import accuracy, compile_f32, infer, predict
from .staging import staged

OVERFLOW_FIX = "enable"


def quantize_int8(fp32_xml, calibration_x, out_path, *, subset_size=300, seed=0, validation=None,
                  max_accuracy_drop=None, accuracy_fp32=None):
    """Write the INT8 IR to ``out_path``; return ``{"path", "subset_size", ..., "accuracy_fp32", "accuracy_int8"}``.

    ``validation``: ``(x, y)`` with class labels; gives the accuracy before and
    after (``None`` without it); ``accuracy_fp32``, the FP32 IR's accuracy on it
    when the caller has scored it already. ``max_accuracy_drop`` needs ``validation``.
    ``accuracy_control_needed``: the plain INT8 model dropped more than
    ``max_accuracy_drop`` and NNCF's accuracy control ran (None without
    ``max_accuracy_drop``); ``quantizers``: FakeQuantize operations in the
    written model (NNCF folds weight quantizers into int8 constants, so these are
    the activation quantizers); ``quantizers_reverted``: how many accuracy control removed.
    """
    import nncf
    import numpy as np
    import openvino as ov
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix

    check_max_accuracy_drop(max_accuracy_drop)
    if max_accuracy_drop is not None and validation is None:
        raise ValueError("max_accuracy_drop needs a validation set (x, y)")
    if subset_size < 1:
        raise ValueError(f"subset_size must be at least 1, got {subset_size}")
    calibration_x = np.asarray(calibration_x, dtype=np.float32)
    picked = np.random.default_rng(seed).choice(len(calibration_x), min(subset_size, len(calibration_x)),
                                                replace=False)
    calibration = nncf.Dataset([calibration_x[i:i + 1] for i in np.sort(picked)])
    advanced = AdvancedQuantizationParameters(overflow_fix=OverflowFix(OVERFLOW_FIX))
    model = ov.Core().read_model(fp32_xml)
    x, y = _as_arrays(validation) if validation is not None else (None, None)

    if validation is not None and accuracy_fp32 is None:
        accuracy_fp32 = accuracy(compile_f32(model), x, y)
    quantized = nncf.quantize(model, calibration, subset_size=len(picked), advanced_parameters=advanced)
    plain_quantizers, needed = quantizers(quantized), None
    if max_accuracy_drop is not None:
        needed = accuracy_fp32 - accuracy(compile_f32(quantized), x, y) > max_accuracy_drop
        if needed:
            validation_set = nncf.Dataset(list(zip(np.split(x, len(x)), y)), lambda item: item[0])
            quantized = nncf.quantize_with_accuracy_control(
                ov.Core().read_model(fp32_xml), calibration, validation_set, _validate, max_drop=max_accuracy_drop, subset_size=len(picked),
                advanced_quantization_parameters=advanced)

    out_path = Path(out_path)
    report = {"path": str(out_path), "subset_size": int(len(picked)), "seed": seed, "overflow_fix": OVERFLOW_FIX,
              "accuracy_control": max_accuracy_drop is not None, "max_accuracy_drop": max_accuracy_drop,
              "accuracy_control_needed": needed, "quantizers": quantizers(quantized),
              "quantizers_reverted": plain_quantizers - quantizers(quantized),
              "accuracy_fp32": accuracy_fp32, "accuracy_int8": None}
    with staged(out_path.parent) as tmp:
        # compress_to_fp16=False: what stays in float (biases, scales) stays FP32, so the
        # INT8 file differs from the FP32 one by the quantization alone
        ov.save_model(quantized, tmp / out_path.name, compress_to_fp16=False)
        if validation is not None:
            report["accuracy_int8"] = accuracy(compile_f32(ov.Core().read_model(tmp / out_path.name)), x, y)
    return report


def check_max_accuracy_drop(max_accuracy_drop):
    if max_accuracy_drop is not None and not 0 <= max_accuracy_drop < 1:
        raise ValueError(f"the maximum accuracy drop is a fraction (0.01 = 1 point), got {max_accuracy_drop}")


def quantizers(model):
    """Number of FakeQuantize operations in an ``ov.Model``: the places NNCF quantized."""
    return sum(op.get_type_name() == "FakeQuantize" for op in model.get_ops())


def _validate(compiled, items):
    """NNCF's validation_fn: the accuracy and, per item, 1.0 if it is right (used to rank layers)."""
    hits = [float(predict(infer(compiled, x))[0] == y) for x, y in items]
    return sum(hits) / len(hits), hits


def _as_arrays(validation):
    import numpy as np

    x, y = validation
    return np.asarray(x, dtype=np.float32), np.asarray(y).astype(np.int64)
