"""Which arithmetic a device runs an IR in: pinned f32, the device's own default, or bf16.

An IR file has a precision (its weights: ``model_fp32``, ``model_fp16``,
``model_int8``); the device that runs it has another, its *execution
precision*, OpenVINO's ``INFERENCE_PRECISION_HINT``: the type its kernels
compute in. Left alone, OpenVINO picks the device's default: bf16 on CPUs with
AVX512-BF16 or AMX, f32 on other CPUs, f16 on GPUs. descentlab names the runs:

| precision | IR file          | execution precision                                  |
|-----------|------------------|------------------------------------------------------|
| fp32      | model_fp32.xml   | pinned to f32                                        |
| fp16      | model_fp16.xml   | pinned to f32 (FP16 weights, f32 arithmetic)         |
| int8      | model_int8.xml   | pinned to f32 where not quantized                    |
| native    | model_fp32.xml   | nothing pinned: the device's default, as deployed    |
| bf16      | model_fp32.xml   | bf16, only on a device that lists BF16               |

``native`` is how a deployed FP32 model really runs on the target; the
precision it ran in is read back from the compiled model and recorded
(``execution``: ``{"CPU": "bf16"}``). f32 is pinned only where the device lists
FP32; where it does not, the recorded execution precision says what ran.
"""

from descentlab.errors import UserError

from .devices import HINT, VIRTUAL, available_names, core, default_execution, execution_precisions, type_name

PRECISIONS = ("fp32", "native", "bf16", "fp16", "int8")
PINNED = "f32"
# The INFERENCE_PRECISION_HINT each precision asks for; None: the device's default.
REQUESTED = {"fp32": PINNED, "fp16": PINNED, "int8": PINNED, "native": None, "bf16": "bf16"}


def check_precision(name):
    """``name`` if it is one of ``PRECISIONS``, else ``ValueError`` listing them."""
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision '{name}' (choose from {', '.join(PRECISIONS)})")
    return name


def ir_precision(name):
    """The IR file a precision runs: ``native`` and ``bf16`` run the FP32 IR."""
    return "fp32" if REQUESTED[check_precision(name)] != PINNED else name


def targets(device, ov_core=None):
    """The physical devices ``device`` may run on: ``AUTO:GPU,CPU`` -> GPU, CPU; ``AUTO`` -> all available."""
    prefix, _, candidates = device.partition(":")
    if prefix not in VIRTUAL:
        return [device]
    return [c.strip() for c in candidates.split(",") if c.strip()] or available_names(ov_core)


def compile_settings(precision, device, ov_core=None):
    """The compile properties that make ``device`` run ``precision``.

    ``UserError`` (one line) when ``bf16`` is asked of a device that does not
    list BF16: OpenVINO would silently run f32 instead. For AUTO, MULTI and
    HETERO the hint goes to every candidate through ``DEVICE_PROPERTIES``.
    """
    requested = REQUESTED[check_precision(precision)]
    if requested is None:
        return {}
    ov_core = ov_core or core()
    per_device = {}
    for target in targets(device, ov_core):
        supported = execution_precisions(target, ov_core)
        if requested in supported:
            per_device[target] = {HINT: requested}
        elif requested != PINNED:
            raise UserError(f"{target} cannot compute in {requested} here (it computes in "
                            f"{', '.join(supported) or 'no precision it reports'}); "
                            f"use the precision native (the device's default) or fp32")
    if device.partition(":")[0] in VIRTUAL:
        return {"DEVICE_PROPERTIES": per_device} if per_device else {}
    return per_device.get(device, {})


def check_supported(precisions, device, ov_core=None):
    """``UserError`` before any work when ``device`` cannot run one of ``precisions`` (bf16 without BF16).

    Names outside ``PRECISIONS`` (an IR whose file name does not say) run pinned like fp32.
    """
    for name in precisions:
        if name in PRECISIONS:
            compile_settings(name, device, ov_core)


def execution_of(compiled, settings, device, ov_core=None):
    """``{device: execution precision}`` of a compiled model, e.g. ``{"CPU": "f32"}``.

    Read back from the compiled model. AUTO, MULTI and HETERO do not expose
    the property, so for each device they run on: the hint ``settings`` gave it,
    else that device's default (``devices.default_execution``).
    """
    try:
        running = [str(d) for d in compiled.get_property("EXECUTION_DEVICES")]
    except RuntimeError:
        running = targets(device, ov_core)
    try:
        precision = type_name(compiled.get_property(HINT))
        return {name: precision for name in running}
    except RuntimeError:
        given = settings.get("DEVICE_PROPERTIES", {})
        return {name: (given.get(name, {}).get(HINT) or default_execution(name, ov_core)) for name in running}


def describe(execution):
    """``"bf16 on CPU"`` for ``{"CPU": "bf16"}``; ``"unknown"`` when nothing was reported."""
    return ", ".join(f"{precision or 'unknown'} on {name}" for name, precision in execution.items()) or "unknown"


def same_as_pinned(execution):
    """True when every device ran in f32: the run computed exactly what pinned fp32 computes."""
    return bool(execution) and all(p == PINNED for p in execution.values())
