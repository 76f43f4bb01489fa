"""Time the exported ONNX model with ONNX Runtime's CPUExecutionProvider.

Same thread count as the other backends (``intra_op_num_threads``), default
graph optimisations; synchronous ``run`` at batch 1 (latency) and batch B
(throughput).
"""

from .timing import latency_loop, latency_stats, throughput_loop, timed


def bench_onnx(onnx_path, one, many, *, seconds, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session, load_ms = timed(lambda: ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]))
    except Exception as exc:  # onnxruntime raises its own exception types for a bad file
        raise ValueError(f"'{onnx_path}' is not a readable ONNX model "
                         f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    name = session.get_inputs()[0].name
    _, first_ms = timed(lambda: session.run(None, {name: many}))
    latency = latency_stats(latency_loop(lambda: session.run(None, {name: one}), seconds))
    fps = throughput_loop(lambda: session.run(None, {name: many}), seconds, len(many))
    return {"device_name": f"ONNX Runtime {ort.__version__}, CPUExecutionProvider",
            "load_ms": load_ms, "first_inference_ms": first_ms, "latency": latency,
            "throughput": {"batch": len(many), "fps": fps, "threads": threads}}
