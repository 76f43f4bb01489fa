"""Reading, checking and compiling an OpenVINO IR: the steps evaluate and bench share.

``CACHE_DIR`` is OpenVINO's model cache: the second compile of the same IR on
the same device loads the compiled blob instead of compiling again (OpenVINO
guide "Model caching overview").
"""

import os
from pathlib import Path

from .devices import core
from .precision import compile_settings, execution_of

CACHE_DIR = Path(os.environ.get("DESCENTLAB_CACHE", Path.home() / ".cache" / "descentlab")) / "openvino"


def read_model(path, ov_core=None):
    """The ``ov.Model`` in IR ``path``; ``FileNotFoundError``/``ValueError`` in one line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IR '{path}' does not exist")
    if path.suffix != ".xml":
        raise ValueError(f"'{path}' is not an OpenVINO IR (expected a .xml file with its .bin beside it)")
    if not path.with_suffix(".bin").is_file():
        raise FileNotFoundError(f"IR '{path}' lacks its weights file '{path.with_suffix('.bin').name}'")
    try:
        return (ov_core or core()).read_model(path)
    except RuntimeError as exc:
        last = [ln for ln in str(exc).splitlines() if ln.strip()][-1:] or [type(exc).__name__]
        raise ValueError(f"'{path}' is not a readable OpenVINO IR ({last[0].strip()})") from None


def sample_shape(model):
    """The model's input shape without the batch dimension (``-1`` where dynamic)."""
    shape = model.inputs[0].get_partial_shape()
    return tuple(d.get_length() if d.is_static else -1 for d in list(shape)[1:])


def check_input(model, x):
    """``ValueError`` unless samples of ``x`` fit the model's input ([batch, *sample])."""
    expected = sample_shape(model)
    got = tuple(x.shape[1:])
    if len(got) != len(expected) or any(e not in (-1, g) for e, g in zip(expected, got)):
        shown = "x".join("?" if e == -1 else str(e) for e in expected)
        raise ValueError(f"input samples of shape {'x'.join(map(str, got)) or 'scalar'} do not fit "
                         f"the model, which expects {shown}")


def compile_model(model, device, hint="THROUGHPUT", *, precision="fp32", cache_dir=None, ov_core=None,
                  config=None):
    """Compile ``model`` for ``device`` with a performance hint, the model cache and the
    execution precision ``precision`` asks for (``precision.py``).

    Every precision but ``native`` and ``bf16`` pins the inference precision to
    f32 (also when AUTO, MULTI or HETERO may pick the CPU): on CPUs with
    AVX512-BF16 OpenVINO otherwise runs an FP32 IR in bfloat16, and "fp32"
    results would not be FP32. The IR's own precision (fp16 weights, int8
    quantized layers) still shows. Returns ``(compiled, execution)``,
    ``execution`` as ``precision.execution_of`` reads it back.
    """
    ov_core = ov_core or core()
    execution_settings = compile_settings(precision, device, ov_core)
    settings = {"PERFORMANCE_HINT": hint.upper(), "CACHE_DIR": str(cache_dir or CACHE_DIR), **execution_settings}
    settings.update(config or {})
    try:
        compiled = ov_core.compile_model(model, device, settings)
    except RuntimeError as exc:
        last = [ln for ln in str(exc).splitlines() if ln.strip()][-1:] or [type(exc).__name__]
        raise ValueError(f"cannot compile the model for {device}: {last[0].strip()}") from None
    return compiled, execution_of(compiled, execution_settings, device, ov_core)
