"""Export cost per model of the zoo: seconds for torch -> ONNX, ONNX -> IR FP32/FP16, NNCF INT8.

Each model is trained for ``--epochs`` with Adam by ``train.run`` (the weights
barely change the export cost, but INT8 accuracy needs a trained model), then
exported ``--repeats`` times with ``export.export_checkpoint``. Each hop's
seconds include its checks (ONNX Runtime run, IR compile and compare,
validation accuracy), which is what a user waits for. Medians; the neuron is
exported from its lecture dataset (sigmoid2), the others from ``--dataset``.

    python benchmarks/export.py [--dataset fashion-mnist] [--epochs 1] [--repeats 3] [--out FILE]
"""

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

HOPS = ("onnx", "openvino", "int8")

# Run as a script, this file's directory comes first on sys.path and its name would
# shadow the ``export`` package it measures.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=None, help="comma-separated (default: the whole zoo)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "export.json"))
    args = parser.parse_args(argv)

    import logging

    import nncf

    from descentlab import export
    from descentlab import models
    from descentlab.io import write_json
    from descentlab.cli.table import format_table
    from descentlab.train import datasets
    from descentlab.train.run import RunConfig, train_run

    nncf.set_log_level(logging.WARNING)
    names = args.models.split(",") if args.models else models.available()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            dataset = "sigmoid2" if name == "neuron" else args.dataset
            data = datasets.load(dataset, seed=0)
            run_dir = Path(work) / name
            train_run(RunConfig(dataset=dataset, model=name, optimizer="adam", epochs=args.epochs), data,
                      out_dir=run_dir)
            seconds, walls = {hop: [] for hop in HOPS}, []
            for repeat in range(args.repeats):
                started = time.perf_counter()
                with redirect_stdout(sys.stderr):  # NNCF's progress bars
                    manifest = export.export_checkpoint(run_dir / "checkpoint.pt", run_dir / f"export{repeat}")
                walls.append(time.perf_counter() - started)
                for hop in HOPS:
                    seconds[hop].append(manifest["seconds"][hop])
            hops = {h["stage"]: h for h in manifest["hops"]}
            rows.append({
                "model": name, "dataset": dataset, "repeats": args.repeats,
                "seconds": {hop: statistics.median(v) for hop, v in seconds.items()},
                "total_seconds": statistics.median(walls),
                "bytes": {f: info["bytes"] for f, info in manifest["files"].items()},
                "max_abs_diff": {h: hops[h]["max_abs_diff"] for h in ("onnx", "ir-fp32", "ir-fp16", "ir-int8")},
                "val_accuracy": {h: hops[h]["val_accuracy"] for h in ("torch", "ir-fp32", "ir-fp16", "ir-int8")},
            })
            print(f"{name}: {rows[-1]['total_seconds']:.1f} s", file=sys.stderr)

    table = [[r["model"], r["dataset"], *(f"{r['seconds'][h]:.2f}" for h in HOPS), f"{r['total_seconds']:.2f}",
              r["bytes"]["model_fp32.bin"], r["bytes"]["model_int8.bin"],
              _fmt(r["val_accuracy"]["ir-fp32"]), _fmt(r["val_accuracy"]["ir-int8"])] for r in rows]
    print(format_table(["model", "dataset", "onnx s", "ir s", "int8 s", "total s", "fp32 bytes", "int8 bytes",
                        "fp32 val acc", "int8 val acc"], table))
    write_json(args.out, {"benchmark": "export", "epochs": args.epochs, "tools": export.manifest.tool_versions(),
                          "rows": rows})
    print(f"wrote {args.out}")
    return 0


def _fmt(value):
    return "-" if value is None else f"{value:.4f}"


if __name__ == "__main__":
    sys.exit(main())
