"""OpenVINO on this machine: accuracy per precision, speed beside PyTorch and ONNX Runtime,
a cross-check against benchmark_app, OpenVINO settings against ONNX Runtime, and the targets.

1. A Fashion-MNIST ``cnn`` is trained for ``--epochs`` with a plain Adam loop
   (skipped when ``--run-dir`` already holds ``checkpoint.pt``) and exported
   with ``export.export_checkpoint`` (ONNX, IR fp32/fp16, NNCF int8).
2. ``infer.evaluate_path``: test accuracy of each IR precision, and PyTorch's.
3. ``infer.bench``: the ``descentlab bench`` table at ``--batch`` (default 64).
4. ``benchmark_app`` on the FP32 IR with the same settings (static shape, f32
   precision, same threads, hint and duration): throughput and median latency
   must agree with ours within 15%.
5. OpenVINO FP32 at batch 64 under other streams / requests / precision
   settings, beside ONNX Runtime: does a setting close the gap?
6. The targets: OV FP32 batch-1 latency <= torch eager; OV FP32 throughput at
   batch 64 >= 1.5x torch eager; INT8 throughput > FP32; INT8 accuracy within
   1 point of FP32.

    python benchmarks/inference.py [--epochs 1] [-t 5] [--batch 64] [--run-dir DIR] [--out FILE]
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path; keep it from
# shadowing the packages it measures.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

RESULTS = Path(__file__).parent / "results"
TOLERANCE = 0.15


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("-t", "--time", type=float, default=5.0, dest="seconds")
    parser.add_argument("--batch", type=int, default=64)
    # The trained model and its IRs are inputs, not results: under runs/ (git-ignored).
    parser.add_argument("--run-dir", default=str(Path(__file__).parent.parent / "runs" / "inference-fmnist-cnn"))
    parser.add_argument("--out", default=str(RESULTS / "inference.json"))
    args = parser.parse_args(argv)

    from descentlab import infer
    from descentlab.io import write_json
    from descentlab.cli.commands.bench import format_result

    run_dir = Path(args.run_dir)
    prepare(run_dir, args.epochs)
    # Other jobs on the machine change every number here: say how busy it was.
    load = os.getloadavg()[0]
    print(f"load average before timing: {load:.2f} on {os.cpu_count()} CPUs")

    accuracy = infer.evaluate_path(run_dir)["runs"][run_dir.name]
    accuracy["pytorch"] = {"accuracy": torch_accuracy(run_dir / "checkpoint.pt")}
    print("test accuracy (10000 images): " + ", ".join(
        f"{name} {100 * r['accuracy']:.2f}%" for name, r in accuracy.items()))

    bench = infer.bench(run_dir, seconds=args.seconds, batch=args.batch)
    print(format_result(bench))

    cross = cross_check(bench, run_dir / "model_fp32.xml", args.seconds)
    print("\nbenchmark_app cross-check (fp32), measured back to back:")
    for name, row in cross.items():
        print(f"  {name}: ours {row['ours']:.4g}, benchmark_app {row['benchmark_app']:.4g} (medians), "
              f"median ratio {row['ratio']:.3f} -> {'agree' if row['agree'] else 'DISAGREE'} (within 15%)")
        print("    pairs (ours, benchmark_app): " + ", ".join(f"({a:.4g}, {b:.4g})" for a, b in row["pairs"]))

    sweep = settings_sweep(run_dir, bench, args.seconds)
    print(f"\nOpenVINO FP32 throughput settings at batch {args.batch} (median of 3, round-robin)")
    for row in sweep:
        requests = f"  nireq {row['nireq']}, streams {row['streams']}" if row["streams"] else ""
        print(f"  {row['setting']:<46} {row['fps']:>8.0f} img/s{requests}")

    targets = check_targets(bench, accuracy)
    print("\ntargets:")
    for row in targets:
        print(f"  {'PASS' if row['met'] else 'FAIL'}  {row['target']}: {row['measured']}")

    write_json(args.out, {"run_dir": str(run_dir), "load_average": [load, os.getloadavg()[0]], "accuracy": _no_confusion(accuracy), "bench": bench,
                          "benchmark_app": cross, "settings": sweep, "targets": targets})
    print(f"\nwrote {args.out}")


def prepare(run_dir, epochs):
    """Train the Fashion-MNIST cnn with a plain Adam loop and export it, unless already done."""
    if (run_dir / "checkpoint.pt").is_file() and (run_dir / "manifest.json").is_file():
        return
    import torch

    from descentlab import export
    from descentlab import models
    from descentlab.train import checkpoint, datasets

    data = datasets.load("fashion-mnist")
    torch.manual_seed(0)
    model = models.create("cnn", tuple(data.input_shape), data.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data.train.x, data.train.y
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 128):
            index = order[start:start + 128]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: train loss {torch.nn.functional.cross_entropy(model(x[:2000]), y[:2000]):.4f}")
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint.save(run_dir / "checkpoint.pt", {
        "model": {"name": "cnn", "kwargs": {}, "input_shape": list(data.input_shape),
                  "num_classes": data.num_classes},
        "model_state": model.state_dict(),
        "dataset": {"name": "fashion-mnist", "data_dir": None, "seed": 0, "task": data.task},
        "optimizer": {"name": "adam", "hparams": {"lr": 1e-3}, "state": optimizer.state_dict()},
        "history": {}, "config": {"epochs": epochs, "batch_size": 128}, "epoch": epochs})
    export.export_checkpoint(run_dir / "checkpoint.pt", run_dir)


def torch_accuracy(checkpoint_path):
    import torch

    from descentlab.train import checkpoint, datasets

    ckpt = checkpoint.load(checkpoint_path)
    model = checkpoint.rebuild_model(ckpt)
    test = datasets.load(ckpt["dataset"]["name"]).test
    with torch.inference_mode():
        predicted = torch.cat([model(test.x[i:i + 1000]).argmax(1) for i in range(0, len(test.x), 1000)])
    return float((predicted == test.y).float().mean())


def benchmark_app(xml, shape, hint, seconds, api):
    """Run OpenVINO's benchmark_app with our settings; its throughput (fps) and median latency (ms).

    benchmark_app refuses ``-nthreads`` together with a hint; it then uses
    every CPU of the process, which is our default thread count too.
    """
    command = ["benchmark_app", "-m", str(xml), "-d", "CPU", "-hint", hint, "-api", api,
               "-t", str(max(1, round(seconds))), "-shape", f"[{','.join(map(str, shape))}]",
               "-layout", f"[N{'?' * (len(shape) - 1)}]", "-infer_precision", "f32"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    fps = float(re.search(r"Throughput:\s+([\d.]+)\s+FPS", output).group(1))
    value, unit = re.search(r"Median:\s+([\d.]+)\s+(ms|us)", output).groups()
    median = float(value) / (1000 if unit == "us" else 1)
    return {"fps": fps, "median_ms": median, "command": " ".join(command)}


def cross_check(bench, xml, seconds, repeats=3):
    """Our FP32 throughput and latency against benchmark_app's with the same settings.

    Other jobs on the machine change speed from one minute to the next, so the
    two are measured back to back, ``repeats`` times, and the median ratio is
    what must lie within 15%.
    """
    import statistics

    import numpy as np

    from descentlab.infer.bench_openvino import bench_ir

    sample, batch = bench["input_shape"], bench["batch"]
    many = np.random.default_rng(0).random((batch, *sample), dtype=np.float32)
    pairs = {"throughput": [], "latency": []}
    for _ in range(repeats):
        ours = bench_ir(xml, np.ascontiguousarray(many[:1]), many, device="CPU", seconds=seconds,
                        threads=bench["threads"])
        theirs_fps = benchmark_app(xml, [batch, *sample], "throughput", seconds, "async")
        theirs_latency = benchmark_app(xml, [1, *sample], "latency", seconds, "sync")
        pairs["throughput"].append((ours["throughput"]["fps"], theirs_fps["fps"], theirs_fps["command"]))
        pairs["latency"].append((ours["latency"]["median_ms"], theirs_latency["median_ms"],
                                 theirs_latency["command"]))
    names = {"throughput": f"throughput img/s, batch {batch}, async THROUGHPUT",
             "latency": "median latency ms, batch 1, sync LATENCY"}
    result = {}
    for key, measured in pairs.items():
        ratio = statistics.median(a / b for a, b, _ in measured)
        result[names[key]] = {"ours": statistics.median(a for a, _, _ in measured),
                              "benchmark_app": statistics.median(b for _, b, _ in measured),
                              "ratio": ratio, "agree": abs(ratio - 1) <= TOLERANCE,
                              "pairs": [[a, b] for a, b, _ in measured], "command": measured[0][2]}
    return result


def settings_sweep(run_dir, bench, seconds, repeats=3):
    """OpenVINO FP32 throughput at the bench batch under other settings, beside ONNX Runtime.

    The settings are measured round-robin, ``repeats`` times, and each keeps
    its median: load from other jobs then hits every setting alike.
    """
    import statistics

    import numpy as np

    from descentlab.infer.bench_onnxruntime import bench_onnx
    from descentlab.infer.bench_openvino import bench_ir

    threads = bench["threads"]
    many = np.random.default_rng(0).random((bench["batch"], *bench["input_shape"]), dtype=np.float32)
    one = np.ascontiguousarray(many[:1])
    xml = run_dir / "model_fp32.xml"

    def openvino(hint, nireq, config):
        return lambda: bench_ir(xml, one, many, device="CPU", seconds=seconds, hint=hint, nireq=nireq,
                                threads=threads, config=config)["throughput"]

    settings = {
        "THROUGHPUT hint (default streams, nireq)": openvino("throughput", None, {}),
        "LATENCY hint (1 stream, all threads), nireq 1": openvino("latency", 1, {}),
        "LATENCY hint, nireq 2": openvino("latency", 2, {}),
        "NUM_STREAMS 1, nireq 2": openvino("throughput", 2, {"NUM_STREAMS": 1}),
        f"NUM_STREAMS {threads}, nireq {2 * threads}": openvino("throughput", 2 * threads, {"NUM_STREAMS": threads}),
        "THROUGHPUT hint, bf16 (the CPU's default)": openvino("throughput", None, {"INFERENCE_PRECISION_HINT": "bf16"}),
        "LATENCY hint, bf16, nireq 1": openvino("latency", 1, {"INFERENCE_PRECISION_HINT": "bf16"}),
        f"ONNX Runtime fp32, {threads} intra-op threads": lambda: bench_onnx(
            run_dir / "model.onnx", one, many, seconds=seconds, threads=threads)["throughput"],
    }
    measured = {name: [] for name in settings}
    for _ in range(repeats):
        for name, run in settings.items():
            measured[name].append(run())
    return [{"setting": name, "fps": statistics.median(t["fps"] for t in runs),
             "all_fps": [t["fps"] for t in runs], "nireq": runs[0].get("nireq"), "streams": runs[0].get("streams")}
            for name, runs in measured.items()]


def check_targets(bench, accuracy):
    rows = {(r["backend"], r["precision"]): r for r in bench["rows"] if not r["skipped"]}
    ov32, ov8, pt = rows.get(("openvino", "fp32")), rows.get(("openvino", "int8")), rows.get(("pytorch", "fp32"))
    batch = bench["batch"]
    targets = []
    if ov32 and pt:
        a, b = ov32["latency"]["median_ms"], pt["latency"]["median_ms"]
        targets.append({"target": "OV FP32 batch-1 latency <= PyTorch eager", "met": a <= b,
                        "measured": f"{a:.3f} ms vs {b:.3f} ms"})
        a, b = ov32["throughput"]["fps"], pt["throughput"]["fps"]
        targets.append({"target": f"OV FP32 throughput at batch {batch} >= 1.5x PyTorch eager", "met": a >= 1.5 * b,
                        "measured": f"{a:.0f} vs {b:.0f} img/s ({a / b:.2f}x)"})
    if ov32 and ov8:
        a, b = ov8["throughput"]["fps"], ov32["throughput"]["fps"]
        targets.append({"target": f"OV INT8 throughput at batch {batch} > FP32", "met": a > b,
                        "measured": f"{a:.0f} vs {b:.0f} img/s ({a / b:.2f}x)"})
    if "fp32" in accuracy and "int8" in accuracy:
        drop = 100 * (accuracy["fp32"]["accuracy"] - accuracy["int8"]["accuracy"])
        targets.append({"target": "INT8 accuracy within 1 point of FP32", "met": abs(drop) <= 1,
                        "measured": f"{100 * accuracy['int8']['accuracy']:.2f}% vs "
                                    f"{100 * accuracy['fp32']['accuracy']:.2f}% ({-drop:+.2f} points)"})
    return targets


def _no_confusion(accuracy):
    return {name: {k: v for k, v in r.items() if k != "confusion"} for name, r in accuracy.items()}


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
