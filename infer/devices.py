"""Which OpenVINO devices are here, and what they can do.

CPU, GPU and NPU are always listed: a device whose plugin cannot load (no
OpenCL runtime for the GPU, no NPU driver) appears with ``available: False``
and the reason, instead of a crash. AUTO is listed last: it picks among the
available devices at compile time.

Device names follow OpenVINO's: ``CPU``, ``GPU``, ``GPU.1``, ``NPU``, ``AUTO``,
``AUTO:GPU,CPU`` (also ``MULTI:``/``HETERO:`` lists). See the OpenVINO
"Query device properties" and "Automatic device selection" guides.
"""

from descentlab.errors import UserError

FAMILIES = ("CPU", "GPU", "NPU")
VIRTUAL = ("AUTO", "MULTI", "HETERO")

# OPTIMIZATION_CAPABILITIES values that name a numeric precision.
PRECISIONS = {"FP32": "fp32", "FP16": "fp16", "BF16": "bf16", "INT8": "int8", "INT4": "int4",
              "BIN": "binary"}
# The floating-point ones, as INFERENCE_PRECISION_HINT spells the precision a device computes in.
EXECUTIONS = {"FP32": "f32", "BF16": "bf16", "FP16": "f16"}
HINT = "INFERENCE_PRECISION_HINT"


def core():
    import openvino as ov

    return ov.Core()


def devices(ov_core=None):
    """One dict per device: name, available, full_name, capabilities, precisions,
    default_execution, executions, reason (see ``execution_precisions`` and ``default_execution``)."""
    ov_core = ov_core or core()
    present = _present(ov_core)
    listed = []
    for family in FAMILIES + tuple(sorted({_family(n) for n in present} - set(FAMILIES))):
        names = [n for n in present if _family(n) == family]
        if names:
            listed += [_describe(ov_core, n) for n in names]
        else:
            listed.append(_absent(family, _load_failure(ov_core, family)))
    listed.append(_auto(ov_core, [d["name"] for d in listed if d["available"]]))
    return listed


def available_names(ov_core=None):
    """Names of the physical devices that can compile a model here, e.g. ``['CPU']``."""
    return [d["name"] for d in devices(ov_core) if d["available"] and d["name"] != "AUTO"]


def check_device(name, ov_core=None):
    """Return ``name`` if OpenVINO can use it here, else ``UserError`` naming what is available.

    For ``AUTO:GPU,CPU`` every listed candidate must be present: OpenVINO
    itself fails to compile when one candidate's plugin cannot load.
    """
    if not isinstance(name, str) or not name.strip():
        raise UserError("empty device name")
    name = name.strip().upper()
    available = available_names(ov_core)
    prefix, _, candidates = name.partition(":")
    if prefix in VIRTUAL:
        wanted = [c.strip() for c in candidates.split(",") if c.strip()] if candidates else []
        if not wanted and not available:
            raise UserError(f"device '{name}' has no device to run on here")
    else:
        wanted = [name]
    for device in wanted:
        if not _matches(device, available):
            raise UserError(f"device '{device}' is not available here "
                            f"(available: {', '.join(available) or 'none'})")
    return name


def execution_precisions(device, ov_core=None):
    """The floating-point precisions ``device`` can compute in, e.g. ``["f32", "bf16"]``.

    Read from its ``OPTIMIZATION_CAPABILITIES`` (FP32, BF16, FP16): the CPU
    plugin lists BF16 only on CPUs with AVX512-BF16 or AMX, FP16 only with
    AVX512-FP16 (or AVX2-VNNI-2); GPUs list FP16. [] when the device cannot be asked.
    """
    try:
        capabilities = (ov_core or core()).get_property(device, "OPTIMIZATION_CAPABILITIES")
    except RuntimeError:
        return []
    return [EXECUTIONS[c] for c in capabilities if c in EXECUTIONS]


def default_execution(device, ov_core=None):
    """The precision ``device`` computes an FP32 IR in when nothing is pinned, e.g. ``"bf16"``.

    The device's own ``INFERENCE_PRECISION_HINT`` before any compile: the CPU
    plugin sets it to bf16 on CPUs with AVX512-BF16, else f32; the GPU
    plugin to f16. The same query for every device; None when the device does
    not report the property (AUTO, MULTI and HETERO leave it to the device they pick).
    """
    ov_core = ov_core or core()
    try:
        if HINT not in ov_core.get_property(device, "SUPPORTED_PROPERTIES"):
            return None
        return type_name(ov_core.get_property(device, HINT))
    except RuntimeError:
        return None


def type_name(value):
    """``"bf16"`` for ``ov.Type.bf16`` (OpenVINO returns element types as objects) or for ``"bf16"``."""
    return value.get_type_name() if hasattr(value, "get_type_name") else str(value)


def needs_static_shapes(device):
    """NPU compiles only static shapes; a dynamic batch must be reshaped first."""
    return any(_family(d) == "NPU" for d in device.partition(":")[2].split(",") + [device])


def _matches(device, available):
    # "GPU" addresses the first GPU when the plugin lists them as GPU.0, GPU.1, ...
    return device in available or any(_family(a) == device for a in available)


def _family(name):
    return name.split(".")[0]


def _present(ov_core):
    try:
        return list(ov_core.available_devices)
    except RuntimeError:
        return []


def _describe(ov_core, name):
    try:
        full_name = ov_core.get_property(name, "FULL_DEVICE_NAME")
        capabilities = list(ov_core.get_property(name, "OPTIMIZATION_CAPABILITIES"))
    except RuntimeError as exc:
        return _absent(name, _reason(exc))
    return {"name": name, "available": True, "full_name": full_name,
            "capabilities": capabilities,
            "precisions": [PRECISIONS[c] for c in capabilities if c in PRECISIONS],
            "default_execution": default_execution(name, ov_core),
            "executions": execution_precisions(name, ov_core),
            "reason": None}


def _absent(name, reason):
    return {"name": name, "available": False, "full_name": None, "capabilities": [],
            "precisions": [], "default_execution": None, "executions": [], "reason": reason}


def _load_failure(ov_core, family):
    """Why ``family`` has no device: its plugin fails to load, or it loads and finds nothing."""
    try:
        ov_core.get_versions(family)
    except RuntimeError as exc:
        return _reason(exc)
    return f"the {family} plugin loads but finds no {family} device (driver missing?)"


def _reason(exc):
    """The useful last line of an OpenVINO exception, without the source-file trail."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    line = lines[-1]
    if line.startswith("Cannot load library"):
        # 'Cannot load library "/long/path/libopenvino_intel_gpu_plugin.so": libOpenCL.so.1: ...'
        library, _, cause = line.partition('": ')
        return f"cannot load {library.rsplit('/', 1)[-1]}: {cause}" if cause else line
    return line


def _auto(ov_core, available):
    entry = _describe(ov_core, "AUTO") if available else _absent("AUTO", "no device available")
    if entry["available"]:
        entry["full_name"] = f"AUTO (selects among {', '.join(available)})"
    return entry
