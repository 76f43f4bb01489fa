"""bf16 training against fp32: its effect on test accuracy over seeds, and its seconds.

Every (optimizer, seed) is trained twice by ``train.run.train_run``, with
``precision="fp32"`` and ``"bf16"`` (autocast around the forward pass and
the loss, float32 weights and optimizer state: ``train/precision.py``), from
the same initial weights on the same batches. Per optimizer: the mean test
accuracy of each, the mean paired difference bf16 - fp32 with the paired
t-test over seeds (``compare.stats.paired_p``: is the difference consistent
from seed to seed?), and McNemar's exact test on the per-example hits pooled
over seeds (does bf16 change predictions beyond test-set noise?). Then over
all optimizers: the mean and range of the differences.

On a CPU without bf16 units (no AMX-BF16, no AVX512-BF16) ``--emulate`` lets
torch emulate bf16 with the same rounding, so the accuracy effect is
measured there too; the seconds then say nothing about bf16's speed (torch's
emulation is several times slower than float32). Speed needs a CPU with AMX
or AVX512-BF16.

    python3 benchmarks/train_precision.py [--dataset digits] [--model mlp] [--epochs 15] [--batch-size 32]
        [--seeds 0,1,2,3,4] [--optimizers a,b] [--emulate] [--label NAME] [--out FILE]

``--from-compare-time FP32,BF16`` trains nothing: it reads two measurements
of ``benchmarks/compare_time.py`` (labels in ``compare_time.json``) of the
same serious comparison, one trained in fp32 and one in bf16, and puts their
runs through the same tests. Their CPUs may differ (bf16 needs bf16 units,
an AVX2 CPU gives the fp32 side): the table says so, and the difference then
holds the change of CPU too; their seconds are not compared.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from machine import describe

from descentlab import optimizers
from descentlab.cli.table import format_table
from descentlab.compare import stats
from descentlab.io import unpack_bools, write_json
from descentlab.train import datasets, precision
from descentlab.train.run import RunConfig, train_run

DEFAULT_OUT = Path(__file__).parent / "results" / "train_precision.json"


def measure(args):
    data = datasets.load(args.dataset, seed=0)
    runs = []
    for name in args.optimizers:
        for seed in args.seeds:
            for p in ("fp32", "bf16"):
                config = RunConfig(dataset=args.dataset, model=args.model, optimizer=name,
                                   epochs=args.epochs, batch_size=args.batch_size, seed=seed, precision=p)
                record = train_run(config, data)
                runs.append({"optimizer": name, "seed": seed, "precision": record["train_precision"],
                             "test_accuracy": record["torch"]["test_accuracy"], "diverged": record["diverged"],
                             "test_correct": record["torch"]["test_correct"],
                             "seconds_per_epoch": record["seconds_per_epoch"]})
                print(f"{name} seed {seed} {p}: {record['torch']['test_accuracy']:.4f}", flush=True)
    return runs


def from_compare_time(path, fp32_label, bf16_label):
    """The setting, both machines and the runs (as ``measure`` gives them) of two compare_time.py
    measurements of one comparison, trained in fp32 and in bf16."""
    measured = json.loads(Path(path).read_text())["measurements"]
    pair = {"fp32": measured[fp32_label], "bf16": measured[bf16_label]}
    for p, m in pair.items():
        if m.get("train_precision", "fp32") != p:
            raise SystemExit(f"{path}: '{fp32_label if p == 'fp32' else bf16_label}' trained in "
                             f"{m.get('train_precision', 'fp32')}, not {p}")
    if (pair["fp32"]["epochs"], pair["fp32"]["seeds"]) != (pair["bf16"]["epochs"], pair["bf16"]["seeds"]):
        raise SystemExit(f"{path}: '{fp32_label}' and '{bf16_label}' differ in epochs or seeds")
    command = pair["bf16"]["command"].split()
    setting = {"dataset": command[command.index("--dataset") + 1], "model": command[command.index("--model") + 1],
               "epochs": pair["bf16"]["epochs"], "batch_size": int(command[command.index("--batch-size") + 1]),
               "seeds": pair["bf16"]["seeds"]}
    runs = [{"optimizer": r["optimizer"], "seed": r["seed"], "precision": p, "test_accuracy": r["test_accuracy"],
             "diverged": r["test_accuracy"] is None, "test_correct": r["test_correct"],
             "seconds_per_epoch": r["s_per_epoch"]}
            for p, m in pair.items() for r in m["runs"]]
    return setting, {p: m["machine"] for p, m in pair.items()}, runs


def summarise(runs):
    """Per optimizer: means, the paired difference over seeds and its tests; then overall."""
    rows = {}
    for name in dict.fromkeys(r["optimizer"] for r in runs):
        pairs = [(f, b) for f in runs for b in runs
                 if f["optimizer"] == b["optimizer"] == name and f["seed"] == b["seed"]
                 and f["precision"] == "fp32" and b["precision"] == "bf16"
                 and not f["diverged"] and not b["diverged"]]
        fp32 = [f["test_accuracy"] for f, _ in pairs]
        bf16 = [b["test_accuracy"] for _, b in pairs]
        hits_f = np.concatenate([unpack_bools(f["test_correct"]) for f, _ in pairs])
        hits_b = np.concatenate([unpack_bools(b["test_correct"]) for _, b in pairs])
        rows[name] = {"seeds": len(pairs), "fp32_mean": statistics.fmean(fp32), "bf16_mean": statistics.fmean(bf16),
                      "difference_mean": statistics.fmean(b - f for f, b in zip(fp32, bf16)),
                      "paired_p": stats.paired_p(bf16, fp32) if len(pairs) > 1 else None,
                      "mcnemar_p_pooled": stats.mcnemar_p(hits_b, hits_f),
                      "seconds_per_epoch": {p: statistics.median(r["seconds_per_epoch"] for r in runs
                                                                 if r["optimizer"] == name and r["precision"] == p)
                                            for p in ("fp32", "bf16")}}
    differences = [row["difference_mean"] for row in rows.values()]
    every = [(f["test_accuracy"], b["test_accuracy"]) for f in runs for b in runs
             if f["optimizer"] == b["optimizer"] and f["seed"] == b["seed"]
             and f["precision"] == "fp32" and b["precision"] == "bf16" and not f["diverged"] and not b["diverged"]]
    overall = {"difference_mean": statistics.fmean(differences), "difference_min": min(differences),
               "difference_max": max(differences),
               "paired_p_all_runs": stats.paired_p([b for _, b in every], [f for f, _ in every]),
               "significant_optimizers": sorted(n for n, row in rows.items()
                                                if row["paired_p"] is not None and row["paired_p"] < stats.ALPHA)}
    return rows, overall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--optimizers", default=None, help="comma-separated (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--emulate", action="store_true",
                        help="train bf16 on a CPU without bf16 units (torch emulates it: accuracy only)")
    parser.add_argument("--label", default=None, help="the name of this measurement (default DATASET-MODEL)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--from-compare-time", metavar="FP32,BF16",
                        help="train nothing: compare two measurements of compare_time.json (their labels)")
    parser.add_argument("--compare-time-json", type=Path, default=DEFAULT_OUT.parent / "compare_time.json")
    args = parser.parse_args()
    label, measured = (compared(args) if args.from_compare_time else trained(args, parser))
    saved = json.loads(args.out.read_text()) if args.out.is_file() else {}
    saved.setdefault("measurements", {})[label] = measured
    write_json(args.out, saved)
    print_table(measured)
    print(f"\nwrote {args.out}")


def compared(args):
    """``--from-compare-time``: the label and measurement of two compare_time.py measurements."""
    fp32_label, bf16_label = args.from_compare_time.split(",")
    setting, machines, runs = from_compare_time(args.compare_time_json, fp32_label, bf16_label)
    rows, overall = summarise(runs)
    label = args.label or f"{setting['dataset']}-{setting['model']}, {fp32_label} vs {bf16_label}"
    return label, {"machine": machines["bf16"], "fp32_machine": machines["fp32"], "bf16_emulated": False,
                   "source": {"compare_time": {"fp32": fp32_label, "bf16": bf16_label}},
                   "setting": setting, "optimizers": rows, "overall": overall, "runs": runs}


def trained(args, parser):
    """The label and measurement of every (optimizer, seed) trained here in fp32 and in bf16."""
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.optimizers = args.optimizers.split(",") if args.optimizers else optimizers.available()
    machine = describe()
    emulated = not precision.cpu_has_bf16()
    if emulated:
        if not args.emulate:
            parser.error("this CPU has no bf16 units (AMX-BF16 or AVX512-BF16): pass --emulate to measure "
                         "the accuracy effect with torch's emulation")
        precision.cpu_has_bf16 = lambda flags=None: True  # torch emulates bf16 here
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    runs = measure(args)
    rows, overall = summarise(runs)
    return args.label or f"{args.dataset}-{args.model}", {
        "machine": machine, "bf16_emulated": emulated, "threads": args.threads,
        "setting": {"dataset": args.dataset, "model": args.model, "epochs": args.epochs,
                    "batch_size": args.batch_size, "seeds": args.seeds},
        "wall_seconds": time.perf_counter() - started, "optimizers": rows, "overall": overall, "runs": runs}


def print_table(measured):
    rows = [[name, f"{100 * r['fp32_mean']:.2f}", f"{100 * r['bf16_mean']:.2f}",
             f"{100 * r['difference_mean']:+.2f}", stats.format_p(r["paired_p"]), stats.format_p(r["mcnemar_p_pooled"]),
             f"{r['seconds_per_epoch']['fp32']:.3f}", f"{r['seconds_per_epoch']['bf16']:.3f}"]
            for name, r in measured["optimizers"].items()]
    print(format_table(["optimizer", "fp32 %", "bf16 %", "bf16 - fp32 (points)", "paired t p", "McNemar p (pooled)",
                        "s / epoch fp32", "s / epoch bf16"], rows))
    o = measured["overall"]
    print(f"\nover all optimizers: mean difference {100 * o['difference_mean']:+.2f} points "
          f"(from {100 * o['difference_min']:+.2f} to {100 * o['difference_max']:+.2f}); paired t-test over every "
          f"run p = {stats.format_p(o['paired_p_all_runs'])}; p < {stats.ALPHA} for: "
          f"{', '.join(o['significant_optimizers']) or 'none'}"
          + ("; bf16 emulated (the seconds say nothing about its speed)" if measured["bf16_emulated"] else ""))


if __name__ == "__main__":
    main()
