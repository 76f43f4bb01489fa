"""Time one OpenVINO IR the way benchmark_app does.

Latency: a LATENCY-hint compile, synchronous ``infer()`` at batch 1.
Throughput: a compile with the requested hint (THROUGHPUT by default: the
device picks streams and the number of requests), an ``AsyncInferQueue`` kept
full at batch B. Inputs are bound to each request once, so the loop times
inference, not the copy of a numpy array into a new tensor (the Python
overhead that dominates for tiny models: ~96 us per call). The model cache is off, so the
compile time is a real compile. Like benchmark_app's ``-shape``, the batch
dimension is made static for each measurement (1, then B): that is how a
deployed model runs, and what NPU requires.
"""

from .devices import core
from .runtime import compile_model, read_model
from .timing import latency_loop, latency_stats, timed

NO_CACHE = {"CACHE_DIR": ""}


def bench_ir(xml, one, many, *, device, seconds, precision="fp32", hint="throughput", nireq=None, threads=None,
             config=None):
    """Latency at batch 1 (``one``) and throughput at batch ``len(many)``, with compile and first-inference times.

    ``precision``: the execution precision asked for (``precision.py``: pinned f32,
    ``native`` or ``bf16``); ``execution`` in the result is what the device really ran.

    ``config``: extra compile properties (``NUM_STREAMS``, ``INFERENCE_PRECISION_HINT``, ...)
    for both measurements, e.g. to compare settings.
    """
    import time

    import openvino as ov

    ov_core = core()
    settings = dict(NO_CACHE)
    if threads and device.split(".")[0] == "CPU":
        settings["INFERENCE_NUM_THREADS"] = threads
    settings.update(config or {})

    model = read_model(xml, ov_core)
    model.reshape([1, *one.shape[1:]])
    latency_model, _ = compile_model(model, device, "LATENCY", precision=precision, ov_core=ov_core,
                                     config=settings)
    request = latency_model.create_infer_request()
    request.set_input_tensor(ov.Tensor(one))
    latency = latency_stats(latency_loop(request.infer, seconds))

    model.reshape([len(many), *many.shape[1:]])
    (compiled, execution), compile_ms = timed(lambda: compile_model(model, device, hint, precision=precision,
                                                                    ov_core=ov_core, config=settings))
    requests = nireq or compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
    queue = ov.AsyncInferQueue(compiled, requests)
    for each in queue:
        each.set_input_tensor(ov.Tensor(many))
    _, first_ms = timed(lambda: queue[0].infer())

    _run_for(queue, requests, min(seconds, 0.2))  # warm-up: every request runs at least once
    start = time.perf_counter()
    done = _run_for(queue, requests, seconds)
    fps = done * len(many) / (time.perf_counter() - start)
    return {
        "device_name": _full_name(ov_core, compiled, device), "execution": execution,
        "load_ms": compile_ms, "first_inference_ms": first_ms, "latency": latency,
        "throughput": {"batch": len(many), "fps": fps, "hint": hint.lower(), "nireq": requests,
                       "streams": _property(compiled, "NUM_STREAMS"),
                       "threads": _property(compiled, "INFERENCE_NUM_THREADS")},
    }


def _run_for(queue, requests, seconds):
    """Keep every request of ``queue`` busy for ``seconds``; the number of inferences run."""
    import time

    started = 0
    deadline = time.perf_counter() + seconds
    # start_async blocks while every request is busy, so the queue stays full.
    while time.perf_counter() < deadline or started < requests:
        queue.start_async()
        started += 1
    queue.wait_all()
    return started


def _property(compiled, name):
    try:
        return int(compiled.get_property(name))
    except (RuntimeError, TypeError, ValueError):
        return None


def _full_name(ov_core, compiled, device):
    try:
        executing = list(compiled.get_property("EXECUTION_DEVICES"))
    except RuntimeError:
        executing = [device]
    names = []
    for name in executing:
        try:
            names.append(ov_core.get_property(name, "FULL_DEVICE_NAME"))
        except RuntimeError:
            names.append(name)
    return ", ".join(names)
