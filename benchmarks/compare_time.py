"""Where the time of the serious comparison goes, and how close training runs to the CPU's limit.

The comparison is the one an instructor runs before a lecture::

    descentlab compare --dataset fashion-mnist --model cnn --epochs E --batch-size 128 --seeds 0

(all 17 optimizers, export to ONNX / IR FP32, FP16 / NNCF INT8, OpenVINO
scoring at the default precisions). ``--epochs 1`` is the quick variant,
``--epochs 5`` the full one. It runs as a separate process, timed from
outside, so the wall time includes Python's start-up and every import.

The run is split into phases from ``results.json``: process start (the
wall time before the comparison began), and summed over the runs: training
steps, per-epoch validation, checkpoints, test, data and warm-up, export
(ONNX, IR, INT8) and OpenVINO scoring. A descentlab without per-run timings
(``--descentlab`` of an older install) gives training steps and "everything
else". "Outside training" is the share of the cores' time that did not go to
training steps: ``1 - sum(training seconds) / (processes x wall)``; it counts
idle cores too.

Beside it, measured in this process: the peak of a large float32 matmul (the
FLOP bound), the CNN's FLOPs per training sample (``FlopCounterMode``), and
the bare eager loop (zero_grad / forward / backward / Adam step, no
validation, no records) in the plain set-up and in ours (``bare_loop``).

Several ``--label``s accumulate in one JSON (``before``: an older
descentlab, ``after``: this one), printed side by side::

    python3 benchmarks/compare_time.py --epochs 1 --label before --descentlab /path/old/venv/bin/descentlab
    python3 benchmarks/compare_time.py --epochs 1 --label after
    python3 benchmarks/compare_time.py --epochs 5 --label after-full
"""

import argparse
import json
import multiprocessing
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from machine import cpu_name

from descentlab.cli.table import format_table
from descentlab.infer.devices import cpu_flags
from descentlab.io import write_json
from descentlab.models import create
from descentlab.train import objective

DEFAULT_OUT = Path(__file__).parent / "results" / "compare_time.json"
BATCH, SHAPE, CLASSES = 128, (1, 28, 28), 10
TRAIN_SAMPLES = 55000  # Fashion-MNIST's training split (60,000 minus 5,000 for validation)


def matmul_peak(threads, n=2048, repeats=7):
    """GFLOP/s of the best of ``repeats`` float32 n x n matmuls on ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def flops_per_sample():
    """FLOPs of one training sample of the CNN (forward and backward), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    model = create("cnn", SHAPE, CLASSES, seed=0)
    x, y = torch.randn(BATCH, *SHAPE), torch.randint(0, CLASSES, (BATCH,))
    with FlopCounterMode(display=False) as counter:
        objective.loss("classification", model(x), y).backward()
    return counter.get_total_flops() / BATCH


def bare_loop(steps, repeats):
    """Samples/s of the bare eager training loop in four set-ups, interleaved, medians.

    plain: the textbook block order (conv, ReLU, pool), NCHW, torch's default
    threads, i.e. the loop before the speed work; then ours (pool before ReLU,
    channels_last) in one process with every core's threads, with one thread,
    and in one single-threaded process per core at once (the comparison's
    workers), where samples/s is the sum over the processes."""
    cores = len(os.sched_getaffinity(0))
    setups = {"plain: conv-ReLU-pool, NCHW, one process": (cores, False),
              "ours: pool-ReLU, channels_last, one process": (cores, True),
              "ours, one process, 1 thread": (1, True)}
    times = {name: [] for name in setups}
    together = f"ours, {cores} processes x 1 thread at once"
    times[together] = []
    for _ in range(repeats):
        for name, (threads, fast) in setups.items():
            times[name].append(_step_seconds(threads, fast, steps))
        with multiprocessing.get_context("spawn").Pool(cores) as pool:
            per_process = pool.starmap(_step_seconds, [(1, True, steps)] * cores)
        times[together].append(statistics.median(per_process) / cores)
    threads = {**{name: t for name, (t, _) in setups.items()}, together: f"{cores} x 1"}
    return {name: {"threads": threads[name], "ms_per_step": 1000 * statistics.median(t),
                   "samples_per_s": BATCH / statistics.median(t)} for name, t in times.items()}


def _step_seconds(threads, fast, steps):
    """Seconds per training step (Adam, batch 128) of the CNN, after two untimed steps."""
    torch.set_num_threads(threads)
    model = create("cnn", SHAPE, CLASSES, seed=0)
    if fast:
        model = model.to(memory_format=torch.channels_last)
    else:
        layers = list(model.features)  # conv, pool, ReLU, conv, pool, ReLU, flatten
        model.features = torch.nn.Sequential(*(layers[i] for i in (0, 2, 1, 3, 5, 4, 6)))
    optimizer = torch.optim.Adam(model.parameters())
    x, y = torch.randn(BATCH, *SHAPE), torch.randint(0, CLASSES, (BATCH,))

    def step():
        optimizer.zero_grad()
        objective.loss("classification", model(x), y).backward()
        optimizer.step()

    step(), step()
    return _seconds(lambda: [step() for _ in range(steps)]) / steps


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_comparison(command, epochs, seeds, data_dir, keep, workers=None):
    """Run the comparison as a separate process; its wall time and results.json."""
    out = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="compare-time-")) / "run"
    argv = [*shlex.split(command), "compare", "--dataset", "fashion-mnist", "--model", "cnn",
            "--epochs", str(epochs), "--batch-size", str(BATCH), "--seeds", seeds, "--out", str(out), "--quiet"]
    if data_dir:
        argv += ["--data-dir", data_dir]
    if workers:
        argv += ["--workers", workers]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return {"argv": argv, "wall": wall, "load_before": load, "load_after": os.getloadavg()[0],
            "results": json.loads((out / "results.json").read_text())}


def phases(run):
    """Seconds per phase and the share of the cores' time outside training steps."""
    results, wall = run["results"], run["wall"]
    records = results["runs"]
    workers = results["environment"]["workers"] or 1
    training = sum(r["train_seconds"] for r in records)
    timed = results.get("timings")
    split = {"process start": wall - timed["wall"]} if timed else {}
    if timed:
        split.update(timed["phases"])
    else:
        split["training"] = training
        split["everything else (this descentlab does not time it)"] = wall * workers - training
    per_run = [{"optimizer": r["optimizer"], "train_s": r["train_seconds"],
                "s_per_epoch": r["seconds_per_epoch"], "test_accuracy": r["torch"]["test_accuracy"],
                "test_correct": r["torch"].get("test_correct"),
                **{f"{k}_s": v for k, v in r.get("timings", {}).items() if k != "training"}}
               for r in records]
    samples = TRAIN_SAMPLES * results["epochs"]
    plain = [r["train_seconds"] for r in records if r["optimizer"] != "linesearch"]
    return {"wall": wall, "workers": workers, "threads": results["environment"]["threads"],
            "phases": split, "outside_training_share": 1 - training / (workers * wall),
            "samples_per_s_per_run": samples / statistics.median(plain),
            "samples_per_s_all_workers": workers * samples / statistics.median(plain),
            "runs": per_run}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="1: the quick variant; 5: the full comparison")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--label", default="after", help="the name of this measurement in the JSON")
    parser.add_argument("--descentlab", default=f"{shlex.quote(sys.executable)} -m descentlab",
                        help="the command that runs descentlab (another install: its venv's descentlab)")
    parser.add_argument("--data-dir")
    parser.add_argument("--workers", help="passed to compare (default: its own, auto)")
    parser.add_argument("--keep", help="keep the comparison's output in this directory")
    parser.add_argument("--steps", type=int, default=20, help="steps per timing of the bare loop")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0))
    machine = {"cpu": cpu_name(), "cpu_flags": cpu_flags(), "cores": cores, "torch": torch.__version__,
               "python": platform.python_version()}
    peak = {"1 thread": matmul_peak(1), f"{cores} threads": matmul_peak(cores)}
    torch.set_num_threads(cores)
    flops = flops_per_sample()
    bare = bare_loop(args.steps, args.repeats)
    run = run_comparison(args.descentlab, args.epochs, args.seeds, args.data_dir, args.keep, args.workers)
    measured = {"epochs": args.epochs, "seeds": args.seeds, "load": [run["load_before"], run["load_after"]],
                "command": " ".join(run["argv"]), **phases(run)}
    measured["flop_bound_samples_per_s"] = peak[f"{cores} threads"] * 1e9 / flops
    saved = json.loads(args.out.read_text()) if args.out.is_file() else {}
    saved.update({"machine": machine, "matmul_gflops": peak, "flops_per_training_sample": flops,
                  "bare_loop": bare})
    saved.setdefault("measurements", {})[args.label] = measured
    write_json(args.out, saved)
    print_tables(saved)
    print(f"\nwrote {args.out}")


def print_tables(saved):
    print(machine_line(saved))
    for headers, rows in tables(saved):
        print()
        print(format_table(headers, rows))


def machine_line(saved):
    machine, peak, flops = saved["machine"], saved["matmul_gflops"], saved["flops_per_training_sample"]
    return (f"{machine['cpu']}, {machine['cores']} cores ({' '.join(machine['cpu_flags'])}); float32 matmul "
            + ", ".join(f"{v:.0f} GFLOP/s on {k}" for k, v in peak.items())
            + f"; the CNN: {flops / 1e6:.1f} MFLOP per training sample")


def tables(saved):
    """``[(headers, rows)]``: the bare loop, the measurements side by side, the test accuracies."""
    bare = (["bare eager loop (Adam, batch 128)", "threads", "ms / step", "samples / s"],
            [[k, v["threads"], f"{v['ms_per_step']:.1f}", f"{v['samples_per_s']:.0f}"]
             for k, v in saved["bare_loop"].items()])
    measured = saved["measurements"]
    labels = list(measured)
    phases = list(dict.fromkeys(p for m in measured.values() for p in m["phases"]))
    rows = [["epochs", *(m["epochs"] for m in measured.values())],
            ["processes x threads", *(layout(m) for m in measured.values())],
            ["wall time", *(_minutes(m["wall"]) for m in measured.values())]]
    for phase in phases:
        where = "" if phase == "process start" else ", summed over runs"
        rows.append([f"{phase} (s{where})", *(_seconds_or_blank(m["phases"].get(phase)) for m in measured.values())])
    rows += [["outside training steps (share of core time)",
              *(f"{100 * m['outside_training_share']:.1f} %" for m in measured.values())],
             ["training samples/s per run (median)", *(f"{m['samples_per_s_per_run']:.0f}" for m in measured.values())],
             ["training samples/s, all workers", *(f"{m['samples_per_s_all_workers']:.0f}" for m in measured.values())],
             ["FLOP bound, all cores (samples/s)", *(f"{m['flop_bound_samples_per_s']:.0f}" for m in measured.values())],
             ["load average before / after", *(" / ".join(f"{x:.1f}" for x in m["load"]) for m in measured.values())]]
    side_by_side = (["", *labels], rows)
    names = sorted({r["optimizer"] for m in measured.values() for r in m["runs"]})
    first = labels[0]
    headers = ["optimizer", *(f"test accuracy, {label}" for label in labels),
               *(f"{label} vs {first}: McNemar p" for label in labels[1:])]
    accuracy = (headers, [[name, *(_accuracy(measured[label], name) for label in labels),
                           *(_mcnemar(measured[first], measured[label], name) for label in labels[1:])]
                          for name in names])
    return [bare, side_by_side, accuracy]


def layout(measured):
    """"processes x threads per process" of a measurement, e.g. "2 x 1"."""
    return f"{measured['workers']} x {measured['threads'] // measured['workers'] or 1}"


def _seconds_or_blank(seconds):
    return "" if seconds is None else f"{seconds:.0f}"


def _mcnemar(a, b, name):
    """McNemar's exact p on the per-example hits of ``name``'s runs in two measurements of the
    same epochs (blank when the epochs differ or a run lacks the hits)."""
    from descentlab.compare.stats import mcnemar_p
    from descentlab.io import unpack_bools

    hits = [next((r.get("test_correct") for r in m["runs"] if r["optimizer"] == name), None) for m in (a, b)]
    if a["epochs"] != b["epochs"] or None in hits:
        return ""
    return f"{mcnemar_p(unpack_bools(hits[0]), unpack_bools(hits[1])):.2f}"


def _accuracy(measured, name):
    found = [r["test_accuracy"] for r in measured["runs"] if r["optimizer"] == name]
    return f"{found[0]:.4f}" if found and found[0] is not None else ""


def _minutes(seconds):
    return f"{seconds / 60:.1f} min ({seconds:.0f} s)"


if __name__ == "__main__":
    main()
