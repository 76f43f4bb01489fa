"""Scaling a comparison out: one process, ``--workers 2``, ``torchrun --nproc-per-node 2``.

The same digits comparison three ways, each a fresh command timed from start
to exit (start-up, every run, export and report included):

1. ``descentlab compare`` (one process, torch's threads: 2 here), and the
   same with ``OMP_NUM_THREADS=1``: on a loaded machine two threads that wait
   for each other can cost more than they give, and this control separates
   that from the gain of running two processes;
2. ``descentlab compare --workers 2`` (a process pool on this machine, 1 thread each);
3. ``torchrun --nproc-per-node 2 -m descentlab compare`` (2 ranks on 127.0.0.1,
   run i on rank i mod 2; torchrun gives each rank 1 thread).

It also checks that the three give the same numbers (largest difference of any
loss or accuracy in results.json) and reports the sum of the runs' training
seconds. With 2 cores the best a 2-way split can do is 2x, less the second
process's start-up, and only when nothing else runs.

    python benchmarks/distributed.py [--optimizers a,b] [--epochs N] [--precisions none] [--out FILE]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from descentlab.io import write_json
from descentlab.cli.table import format_table

DEFAULT_OUT = Path(__file__).parent / "results" / "distributed.json"
LAUNCHES = {
    "one process": [sys.executable, "-m", "descentlab"],
    "one process, 1 thread": [sys.executable, "-m", "descentlab"],
    "--workers 2": [sys.executable, "-m", "descentlab"],
    "torchrun 2 ranks": [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2",
                         "--master-addr=127.0.0.1", "--master-port=29533", "-m", "descentlab"],
}


def launch(name, settings, out):
    command = [*LAUNCHES[name], "compare", *settings, "--quiet", "--out", str(out)]
    if name == "--workers 2":
        command += ["--workers", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"} if name == "one process, 1 thread" else None
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    seconds = time.perf_counter() - start
    return seconds, json.loads((out / "results.json").read_text())


def numbers(results):
    """Every loss and accuracy of the runs, in order."""
    values = []
    for run in results["runs"]:
        history = run["history"]
        values += history["train_loss"] + history["val_loss"] + [run["torch"]["test_loss"]]
        values += [v for v in history["val_accuracy"] + [run["torch"]["test_accuracy"]] if v is not None]
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optimizers", help="default: every registry optimizer")
    parser.add_argument("--epochs", type=int, help="default: the command's")
    parser.add_argument("--precisions", help="default: the command's (fp32,fp16,int8); 'none' skips OpenVINO")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    settings = []
    for flag in ("optimizers", "epochs", "precisions"):
        if getattr(args, flag) is not None:
            settings += [f"--{flag}", str(getattr(args, flag))]

    rows, measured = [], {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for name in LAUNCHES:
            seconds, results = launch(name, settings, Path(tmp) / name.replace(" ", "_"))
            measured[name] = {"wall_seconds": seconds,
                              "train_seconds_sum": sum(r["train_seconds"] for r in results["runs"]),
                              "runs": len(results["runs"]), "numbers": numbers(results)}
            print(f"{name}: {seconds:.1f} s", flush=True)
    base = measured["one process"]
    for name, m in measured.items():
        m["speedup"] = base["wall_seconds"] / m["wall_seconds"]
        m["max_difference_vs_one_process"] = max(abs(a - b) for a, b in zip(m["numbers"], base["numbers"]))
    for name, m in measured.items():
        del m["numbers"]
        rows.append([name, f"{m['wall_seconds']:.1f}", f"{m['speedup']:.2f}x",
                     f"{m['train_seconds_sum']:.1f}", f"{m['max_difference_vs_one_process']:.1e}"])
    print(format_table(["launch", "wall s", "speed-up", "sum of train s", "max |diff| vs one process"], rows))
    load = os.getloadavg()
    print(f"load average (1 min) before and after: {load_before[0]:.1f}, {load[0]:.1f} on {os.cpu_count()} cores")
    write_json(args.out, {
        "settings": settings or ["(the command's defaults)"], "launches": measured,
        "environment": {"cpu_count": os.cpu_count(), "load_average_before": list(load_before),
                        "load_average_after": list(load),
                        "python": platform.python_version(), "machine": platform.machine()},
    })


if __name__ == "__main__":
    main()
