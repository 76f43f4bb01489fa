"""Training-loop overhead, and seconds per Fashion-MNIST epoch for every model.

1. Overhead: ``train.run.train_run`` (closures, per-step loss record,
   divergence checks, history) against a bare loop that does only
   ``zero_grad / forward / backward / step`` on the same model, optimizer and
   batches. Both are timed per epoch, side by side in one run (alternating, so
   machine noise hits both); the ratio of medians is the overhead. Target: < 5 %.
2. Seconds per Fashion-MNIST training epoch (batch 128, Adam, evaluation
   excluded) for each model of the zoo that classifies images.

Prints tables and writes JSON (``--out``, default benchmarks/results/train_loop.json).

    python3 benchmarks/train_loop.py [--repeats 5] [--dataset fashion-mnist] [--models logreg,mlp,lenet,cnn]
"""

import argparse
import dataclasses
import platform
import statistics
import time
from pathlib import Path

import torch

from descentlab.io import write_json
from descentlab.cli.table import format_table
from descentlab.train import datasets, objective
from descentlab.train.batches import epoch_batches
from descentlab.train.run import RunConfig, build, train_run

DEFAULT_OUT = Path(__file__).parent / "results" / "train_loop.json"


def bare_epoch(config, dataset, model, optimizer, generator):
    start = time.perf_counter()
    for xb, yb in epoch_batches(dataset.train.x, dataset.train.y, config.batch_size, generator):
        optimizer.zero_grad()
        objective.loss(dataset.task, model(xb), yb).backward()
        optimizer.step()
    return time.perf_counter() - start


def loop_epoch(config, dataset):
    """Seconds of one epoch of the real loop (train_run's own clock, evaluation excluded)."""
    record = train_run(dataclasses.replace(config, epochs=1), dataset)
    return record["history"]["seconds"][0]


def overhead(dataset, model_name, repeats):
    config = RunConfig(dataset.name, model_name, "adam", epochs=1, batch_size=128)
    model, optimizer, _ = build(config, dataset)
    generator = torch.Generator().manual_seed(0)
    bare_epoch(config, dataset, model, optimizer, generator)  # warm-up
    bare, ours = [], []
    for _ in range(repeats):
        bare.append(bare_epoch(config, dataset, model, optimizer, generator))
        ours.append(loop_epoch(config, dataset))
    b, o = statistics.median(bare), statistics.median(ours)
    return {"model": model_name, "bare_s": b, "train_run_s": o, "overhead_pct": 100 * (o / b - 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="logreg,mlp,lenet,cnn")
    parser.add_argument("--overhead-models", default="logreg,mlp")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = datasets.load(args.dataset, data_dir=args.data_dir)

    rows = [overhead(dataset, m, args.repeats) for m in args.overhead_models.split(",")]
    print(f"Training-loop overhead on {args.dataset}, batch 128, Adam, median of {args.repeats} epochs")
    print(format_table(["model", "bare loop s/epoch", "train_run s/epoch", "overhead"],
                       [[r["model"], f"{r['bare_s']:.3f}", f"{r['train_run_s']:.3f}",
                         f"{r['overhead_pct']:+.1f} %"] for r in rows]))

    epochs = []
    for name in args.models.split(","):
        config = RunConfig(dataset.name, name, "adam", epochs=1, batch_size=128)
        loop_epoch(config, dataset)  # warm-up
        times = [loop_epoch(config, dataset) for _ in range(max(1, args.repeats // 2))]
        epochs.append({"model": name, "seconds_per_epoch": statistics.median(times)})
    print(f"\nSeconds per {args.dataset} training epoch (batch 128, Adam, evaluation excluded)")
    print(format_table(["model", "s / epoch"], [[e["model"], f"{e['seconds_per_epoch']:.2f}"] for e in epochs]))

    write_json(args.out, {"dataset": args.dataset, "threads": args.threads, "repeats": args.repeats,
                          "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
                          "overhead": rows, "seconds_per_epoch": epochs})
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
