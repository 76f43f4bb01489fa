"""Timing loops and their statistics, shared by every backend of the benchmark.

What benchmark_app reports (OpenVINO "Benchmark Tool" guide): latency as the
median (and percentiles) of single synchronous calls, throughput as samples
per second over a fixed duration. Each loop warms up first (the first
inference allocates memory and picks kernels) and runs at least a few
iterations even when ``seconds`` is tiny, so the statistics exist.
"""

import time

import numpy as np

MIN_ITERATIONS = 5


def latency_loop(call, seconds):
    """Durations (s) of repeated ``call()`` for about ``seconds`` after one warm-up call."""
    call()
    durations = []
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        call()
        end = time.perf_counter()
        durations.append(end - start)
        if end >= deadline and len(durations) >= MIN_ITERATIONS:
            return durations


def throughput_loop(call, seconds, batch):
    """Samples per second of back-to-back ``call()`` on ``batch`` samples each."""
    call()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        call()
        count += 1
        now = time.perf_counter()
        if now >= deadline and count >= MIN_ITERATIONS:
            return count * batch / (now - start)


def latency_stats(durations):
    """Median, p90, p99, min and max in milliseconds, and how many calls they come from."""
    ms = np.asarray(durations) * 1e3
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "p99_ms": float(np.percentile(ms, 99)), "min_ms": float(ms.min()),
            "max_ms": float(ms.max()), "count": len(ms)}


def timed(call):
    """``(result, milliseconds)`` of one ``call()``."""
    start = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - start) * 1e3
