"""Where the time of the serious comparison goes, and how close training runs to the CPU's limit.

The comparison is the one an instructor runs before a lecture::

    descentlab compare --dataset fashion-mnist --model cnn --epochs E --batch-size 128 --seeds S
        [--train-precision P]

(all 17 optimizers, export to ONNX / IR FP32, FP16 / NNCF INT8, OpenVINO
scoring at the default precisions). ``--epochs 1 --seeds 0`` is the quick
variant, ``--epochs 5 --seeds 0,1,2`` the serious one (51 runs: optimizers are
compared over seeds). ``--train-precision`` is passed on (default: the
command's own, auto), and the precision the runs trained in is recorded. It runs as a separate process, timed from
outside, so the wall time includes Python's start-up and every import.

The run is split into phases from ``results.json``: process start (the
wall time before the comparison began), and summed over the runs: training
steps, per-epoch validation, checkpoints, test, data and warm-up, export
(ONNX, IR, INT8) and OpenVINO scoring. A descentlab without per-run timings
(``--descentlab`` of an older install) gives training steps and "everything
else". "Outside training" is the share of the cores' time that did not go to
training steps: ``1 - sum(training seconds) / (processes x wall)``; it counts
idle cores too.

Beside it, measured in this process: the peak of a large matmul in float32,
and in bfloat16 where the CPU has bf16 units (the bound of training in that
precision), the CNN's FLOPs per training sample (``FlopCounterMode``), and
the bare eager loop (zero_grad / forward / backward / Adam step, no
validation, no records) in the plain set-up and in ours, in bf16 too where
the CPU computes it (``bare_loop``).

Several ``--label``s accumulate in one JSON (``before``: an older
descentlab, ``after``: this one), printed side by side::

    python3 benchmarks/compare_time.py --epochs 1 --label before --descentlab /path/old/venv/bin/descentlab
    python3 benchmarks/compare_time.py --epochs 1 --label after
    python3 benchmarks/compare_time.py --epochs 5 --seeds 0,1,2 --label after-full

Every measurement keeps its machine (``machine.describe``: CPU, flags,
cores), its matmul peaks and bare loop, and the load average before and
after the comparison ran: measurements on different CPUs share one JSON and
each table says which CPU a number comes from.
"""

import argparse
import json
import multiprocessing
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from machine import describe

from descentlab.cli.table import format_table
from descentlab.io import write_json
from descentlab.models import create
from descentlab.train import objective
from descentlab.train.precision import autocast, cpu_has_bf16

DEFAULT_OUT = Path(__file__).parent / "results" / "compare_time.json"
BATCH, SHAPE, CLASSES = 128, (1, 28, 28), 10
TRAIN_SAMPLES = 55000  # Fashion-MNIST's training split (60,000 minus 5,000 for validation)


def matmul_peak(threads, dtype=torch.float32, n=2048, repeats=7):
    """GFLOP/s of the best of ``repeats`` n x n matmuls in ``dtype`` on ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def matmul_peaks(cores, bf16):
    """``{"fp32, 1 thread": GFLOP/s, "fp32, N threads": ...}``, and bf16's where the CPU has bf16 units."""
    return {f"{name}, {threads} thread{'s' * (threads > 1)}": matmul_peak(threads, dtype)
            for name, dtype in [("fp32", torch.float32)] + [("bf16", torch.bfloat16)] * bf16
            for threads in (1, cores)}


def flops_per_sample():
    """FLOPs of one training sample of the CNN (forward and backward), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    model = create("cnn", SHAPE, CLASSES, seed=0)
    x, y = torch.randn(BATCH, *SHAPE), torch.randint(0, CLASSES, (BATCH,))
    with FlopCounterMode(display=False) as counter:
        objective.loss("classification", model(x), y).backward()
    return counter.get_total_flops() / BATCH


def bare_loop(steps, repeats, bf16):
    """Samples/s of the bare eager training loop in several set-ups, interleaved, medians.

    plain: the textbook block order (conv, ReLU, pool), NCHW, torch's default
    threads, i.e. the loop before the speed work; then ours (pool before ReLU,
    channels_last) in one process with every core's threads, with one thread,
    and in one single-threaded process per core at once (the comparison's
    workers), where samples/s is the sum over the processes. Where the CPU has
    bf16 units (``bf16``), ours with one thread and one process per core again,
    under bf16 autocast (``train/precision.py``)."""
    cores = len(os.sched_getaffinity(0))
    setups = {"plain: conv-ReLU-pool, NCHW, one process": (cores, False, "fp32"),
              "ours: pool-ReLU, channels_last, one process": (cores, True, "fp32"),
              "ours, one process, 1 thread": (1, True, "fp32")}
    together = {f"ours, {cores} processes x 1 thread at once": "fp32"}
    if bf16:
        setups["ours, one process, 1 thread, bf16"] = (1, True, "bf16")
        together[f"ours, {cores} processes x 1 thread at once, bf16"] = "bf16"
    times = {name: [] for name in [*setups, *together]}
    for _ in range(repeats):
        for name, setup in setups.items():
            times[name].append(_step_seconds(*setup, steps))
        for name, precision in together.items():
            with multiprocessing.get_context("spawn").Pool(cores) as pool:
                per_process = pool.starmap(_step_seconds, [(1, True, precision, steps)] * cores)
            times[name].append(statistics.median(per_process) / cores)
    threads = {**{name: t for name, (t, _, _) in setups.items()}, **{name: f"{cores} x 1" for name in together}}
    return {name: {"threads": threads[name], "ms_per_step": 1000 * statistics.median(t),
                   "samples_per_s": BATCH / statistics.median(t)} for name, t in times.items()}


def _step_seconds(threads, fast, precision, steps):
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
        with autocast(precision):
            loss = objective.loss("classification", model(x), y)
        loss.backward()
        optimizer.step()

    step(), step()
    return _seconds(lambda: [step() for _ in range(steps)]) / steps


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_comparison(command, epochs, seeds, data_dir, keep, workers=None, train_precision=None):
    """Run the comparison as a separate process; its wall time and results.json."""
    out = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="compare-time-")) / "run"
    argv = [*shlex.split(command), "compare", "--dataset", "fashion-mnist", "--model", "cnn",
            "--epochs", str(epochs), "--batch-size", str(BATCH), "--seeds", ",".join(map(str, seeds)),
            "--out", str(out), "--quiet"]
    if data_dir:
        argv += ["--data-dir", data_dir]
    if workers:
        argv += ["--workers", workers]
    if train_precision:
        argv += ["--train-precision", train_precision]
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
    per_run = [{"optimizer": r["optimizer"], "seed": r["seed"], "train_s": r["train_seconds"],
                "s_per_epoch": r["seconds_per_epoch"], "test_accuracy": r["torch"]["test_accuracy"],
                "test_correct": r["torch"].get("test_correct"),
                **{f"{k}_s": v for k, v in r.get("timings", {}).items() if k != "training"}}
               for r in records]
    samples = TRAIN_SAMPLES * results["epochs"]
    plain = [r["train_seconds"] for r in records if r["optimizer"] != "linesearch"]
    return {"wall": wall, "workers": workers, "threads": results["environment"]["threads"],
            "train_precision": results.get("train_precision", "fp32"),
            "phases": split, "outside_training_share": 1 - training / (workers * wall),
            "samples_per_s_per_run": samples / statistics.median(plain),
            "samples_per_s_all_workers": workers * samples / statistics.median(plain),
            "runs": per_run}


def _seeds(text):
    """``--seeds``: integers separated by commas, as compare takes them."""
    try:
        return [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="1: the quick variant; 5: the full comparison")
    parser.add_argument("--seeds", type=_seeds, default=[0], help="e.g. 0,1,2 (default 0)")
    parser.add_argument("--train-precision", choices=("fp32", "bf16", "auto"),
                        help="passed to compare (default: its own, auto); an older descentlab has none")
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
    machine = describe()
    peaks = matmul_peaks(cores, cpu_has_bf16(machine["cpu_flags"]))
    torch.set_num_threads(cores)
    flops = flops_per_sample()
    bare = bare_loop(args.steps, args.repeats, cpu_has_bf16(machine["cpu_flags"]))
    run = run_comparison(args.descentlab, args.epochs, args.seeds, args.data_dir, args.keep, args.workers,
                         args.train_precision)
    measured = {"epochs": args.epochs, "seeds": args.seeds, "machine": machine, "matmul_gflops": peaks,
                "flops_per_training_sample": flops, "bare_loop": bare,
                "load": [run["load_before"], run["load_after"]],
                "command": " ".join(run["argv"]), **phases(run)}
    measured["flop_bound_samples_per_s"] = peaks[f"{measured['train_precision']}, {cores} threads"] * 1e9 / flops
    saved = json.loads(args.out.read_text()) if args.out.is_file() else {}
    saved.setdefault("measurements", {})[args.label] = measured
    write_json(args.out, saved)
    print_tables(saved)
    print(f"\nwrote {args.out}")


def print_tables(saved):
    for measured in latest_per_cpu(saved).values():
        print(machine_line(measured))
    for headers, rows in tables(saved):
        print()
        print(format_table(headers, rows))


def cpu(measured):
    """The CPU a measurement ran on and its widest matrix units, e.g. "AMD EPYC (AVX2)",
    "Intel Xeon Processor (AMX-BF16)" (the JSON keeps every flag)."""
    flags = measured["machine"]["cpu_flags"]
    units = next((name for flag, name in [("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX512-BF16"),
                                          ("avx512f", "AVX-512"), ("avx2", "AVX2")] if flag in flags), "no AVX2")
    return f"{measured['machine']['cpu'].replace('(R)', '')} ({units})"


def latest_per_cpu(saved):
    """``{cpu: the last measurement taken on it}``, in the order the CPUs first appear."""
    latest = {}
    for measured in saved["measurements"].values():
        latest[cpu(measured)] = measured
    return latest


def machine_line(measured):
    """The CPU of a measurement, its matmul peaks and the CNN's FLOPs per sample."""
    return (f"{cpu(measured)}, {measured['machine']['cores']} cores ({' '.join(measured['machine']['cpu_flags'])}); matmul "
            + ", ".join(f"{v:.0f} GFLOP/s in {k}" for k, v in measured["matmul_gflops"].items())
            + f"; the CNN: {measured['flops_per_training_sample'] / 1e6:.1f} MFLOP per training sample")


def tables(saved):
    """``[(headers, rows)]``: the bare loop on each CPU, the measurements side by side, the test accuracies."""
    bare = [([f"bare eager loop (Adam, batch 128), {name}", "threads", "ms / step", "samples / s"],
             [[k, v["threads"], f"{v['ms_per_step']:.1f}", f"{v['samples_per_s']:.0f}"]
              for k, v in measured["bare_loop"].items()])
            for name, measured in latest_per_cpu(saved).items()]
    measured = saved["measurements"]
    labels = list(measured)
    phases = list(dict.fromkeys(p for m in measured.values() for p in m["phases"]))
    rows = [["CPU", *(cpu(m) for m in measured.values())],
            ["epochs", *(m["epochs"] for m in measured.values())],
            ["seeds", *(",".join(map(str, m["seeds"])) if isinstance(m["seeds"], list) else m["seeds"]
                        for m in measured.values())],
            ["training precision", *(m.get("train_precision", "fp32") for m in measured.values())],
            ["processes x threads", *(layout(m) for m in measured.values())],
            ["wall time", *(_minutes(m["wall"]) for m in measured.values())]]
    for phase in phases:
        where = "" if phase == "process start" else ", summed over runs"
        rows.append([f"{phase} (s{where})", *(_seconds_or_blank(m["phases"].get(phase)) for m in measured.values())])
    rows += [["outside training steps (share of core time)",
              *(f"{100 * m['outside_training_share']:.1f} %" for m in measured.values())],
             ["training samples/s per run (median)", *(f"{m['samples_per_s_per_run']:.0f}" for m in measured.values())],
             ["training samples/s, all workers", *(f"{m['samples_per_s_all_workers']:.0f}" for m in measured.values())],
             ["matmul bound in its precision, all cores (samples/s)", *(f"{m['flop_bound_samples_per_s']:.0f}" for m in measured.values())],
             ["load average before / after", *(" / ".join(f"{x:.1f}" for x in m["load"]) for m in measured.values())]]
    side_by_side = (["", *labels], rows)
    runs = sorted({_run(r) for m in measured.values() for r in m["runs"]})
    first = labels[0]
    headers = ["optimizer, seed", *(f"test accuracy, {label}" for label in labels),
               *(f"{label} vs {first}: McNemar p" for label in labels[1:])]
    accuracy = (headers, [[f"{name}, {seed}", *(_accuracy(measured[label], (name, seed)) for label in labels),
                           *(_mcnemar(measured[first], measured[label], (name, seed)) for label in labels[1:])]
                          for name, seed in runs])
    return [*bare, side_by_side, accuracy]


def _run(record):
    """(optimizer, seed) of a run's row; rows from before seeds were recorded ran seed 0."""
    return record["optimizer"], record.get("seed", 0)


def layout(measured):
    """"processes x threads per process" of a measurement, e.g. "2 x 1"."""
    return f"{measured['workers']} x {measured['threads'] // measured['workers'] or 1}"


def _seconds_or_blank(seconds):
    return "" if seconds is None else f"{seconds:.0f}"


def _mcnemar(a, b, run):
    """McNemar's exact p on the per-example hits of one (optimizer, seed) run in two
    measurements of the same epochs (blank when the epochs differ or a run lacks the hits)."""
    from descentlab.compare.stats import mcnemar_p
    from descentlab.io import unpack_bools

    hits = [next((r.get("test_correct") for r in m["runs"] if _run(r) == run), None) for m in (a, b)]
    if a["epochs"] != b["epochs"] or None in hits:
        return ""
    return f"{mcnemar_p(unpack_bools(hits[0]), unpack_bools(hits[1])):.2f}"


def _accuracy(measured, run):
    found = [r["test_accuracy"] for r in measured["runs"] if _run(r) == run]
    return f"{found[0]:.4f}" if found and found[0] is not None else ""


def _minutes(seconds):
    return f"{seconds / 60:.1f} min ({seconds:.0f} s)"


if __name__ == "__main__":
    main()
