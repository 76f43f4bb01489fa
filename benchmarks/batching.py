"""How long one Fashion-MNIST epoch of mini-batches takes with no model attached.

Side by side, in one run, medians over repeats:

- ``train.batches.epoch_batches``: one ``randperm`` per epoch, one numpy
  gather per batch (what ``descentlab train`` uses);
- the same with torch's ``index_select`` for the gather;
- permute-then-slice: gather the whole permuted training set once per epoch,
  then yield views of it;
- ``torch.utils.data.DataLoader`` over a ``TensorDataset`` (shuffle, no
  workers): the per-sample collate path the fast one avoids.

Also the time to load and standardise Fashion-MNIST itself. Prints a table and
writes JSON (``--out``, default ``benchmarks/results/batching.json``).

    python3 benchmarks/batching.py [--repeats 7] [--batch-size 128] [--data-dir P]
"""

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

import descentlab.train.batches as batches
import descentlab.train.datasets as datasets
from descentlab.io import write_json
from descentlab.cli.table import format_table

DEFAULT_OUT = Path(__file__).parent / "results" / "batching.json"


def epoch_fast(x, y, batch_size, generator):
    return sum(len(yb) for _, yb in batches.epoch_batches(x, y, batch_size, generator))


def epoch_torch_indexing(x, y, batch_size, generator):
    order = torch.randperm(len(x), generator=generator)
    pairs = ((x.index_select(0, i), y.index_select(0, i)) for i in order.split(batch_size))
    return sum(len(yb) for _, yb in pairs)


def epoch_permute_then_slice(x, y, batch_size, generator):
    order = torch.randperm(len(x), generator=generator)
    xs, ys = x[order], y[order]
    views = ((xs[i:i + batch_size], ys[i:i + batch_size]) for i in range(0, len(xs), batch_size))
    return sum(len(yb) for _, yb in views)


def epoch_dataloader(x, y, batch_size, generator):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size,
                                         shuffle=True, generator=generator)
    return sum(len(yb) for _, yb in loader)


METHODS = {"epoch_batches (ours)": epoch_fast, "torch index_select per batch": epoch_torch_indexing,
           "permute, then slice": epoch_permute_then_slice,
           "DataLoader(TensorDataset)": epoch_dataloader}


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="epochs timed per method (median reported)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data-dir", help="where the Fashion-MNIST files are (default: the usual search)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file")
    args = parser.parse_args(argv)

    load_seconds, ds = timed(lambda: datasets.load("fashion-mnist", args.data_dir), 3)
    x, y = ds.train.x, ds.train.y
    rows, results = [], []
    for name, method in METHODS.items():
        # The DataLoader takes seconds per epoch: fewer repeats keep the run short.
        repeats = args.repeats if "DataLoader" not in name else max(1, args.repeats // 3)
        generator = torch.Generator().manual_seed(0)
        seconds, seen = timed(lambda: method(x, y, args.batch_size, generator), repeats)
        assert seen == len(x), f"{name} covered {seen} of {len(x)} samples"
        results.append({"method": name, "median_seconds_per_epoch": seconds, "repeats": repeats})
    fast = results[0]["median_seconds_per_epoch"]
    for r in results:
        r["relative_to_ours"] = r["median_seconds_per_epoch"] / fast
        rows.append([r["method"], f"{r['median_seconds_per_epoch'] * 1000:.1f}", f"{r['relative_to_ours']:.1f}x",
                     r["repeats"]])

    n_batches = batches.num_batches(len(x), args.batch_size)
    print(f"Fashion-MNIST: {len(x)} training images {tuple(x.shape[1:])}, batches of {args.batch_size} "
          f"({n_batches} per epoch), no model; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"load + standardise: {load_seconds:.2f} s (median of 3)\n")
    print(format_table(["method", "ms / epoch", "vs ours", "repeats"], rows))
    report = {"benchmark": "batching", "dataset": "fashion-mnist", "source": ds.source,
              "train_images": len(x), "batch_size": args.batch_size, "batches_per_epoch": n_batches,
              "load_seconds": load_seconds, "methods": results, "torch": torch.__version__,
              "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine()}
    write_json(args.out, report)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
