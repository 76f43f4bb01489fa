"""Time the PyTorch eager model the IR came from: rebuilt from the run's checkpoint.

``torch.inference_mode`` and the same thread count as the other backends;
synchronous calls at batch 1 (latency) and batch B (throughput).
"""

from .timing import latency_loop, latency_stats, throughput_loop, timed


def bench_checkpoint(checkpoint_path, one, many, *, seconds, threads):
    import torch

    from descentlab.train.checkpoint import load, rebuild_model

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model, load_ms = timed(lambda: rebuild_model(load(checkpoint_path)))
        one, many = torch.from_numpy(one), torch.from_numpy(many)
        with torch.inference_mode():
            _, first_ms = timed(lambda: model(many))
            latency = latency_stats(latency_loop(lambda: model(one), seconds))
            fps = throughput_loop(lambda: model(many), seconds, len(many))
    finally:
        torch.set_num_threads(previous)
    return {"device_name": f"PyTorch {torch.__version__} eager, CPU", "load_ms": load_ms,
            "first_inference_ms": first_ms, "latency": latency,
            "throughput": {"batch": len(many), "fps": fps, "threads": threads}}
