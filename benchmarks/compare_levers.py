"""What each speed lever of a comparison saves per run, before and after side by side in one process.

Short, relative measurements on the Fashion-MNIST CNN (one thread, as a
comparison's worker has), alternating before and after so that machine noise
hits both:

1. the ONNX hop (``export.to_onnx``) of a new run's model: torch.export every
   time (before) against the architecture's graph kept from an earlier run
   with this run's weights written in (after). A first export in the process
   is made first and not counted: it pays one-time set-up either way;
2. a comparison run's whole export (``export.export_checkpoint``): scoring
   the torch model and every IR on the validation split (before) or not
   (after, ``score=False``: the comparison scores the test split right after);
3. the OpenVINO scoring of one run at fp32, native, fp16, int8
   (``compare.task.deploy`` after the export): native scored again (before)
   or taken from fp32 where the device computes the FP32 IR in f32 (after);
4. the line search's candidate steps: a forward pass against a training step
   (forward and backward), and ``torch.no_grad`` against ``torch.inference_mode``
   for the candidates' forward passes.

Medians over ``--repeats``; the machine and its load are recorded beside them.

    python3 benchmarks/compare_levers.py [--repeats 5] [--out FILE]
"""

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import torch

from machine import describe

from descentlab import export, infer, models
from descentlab.cli.table import format_table
from descentlab.compare import task
from descentlab.export import onnx_export
from descentlab.io import write_json
from descentlab.train import datasets, objective
from descentlab.train.run import RunConfig, train_run

DEFAULT_OUT = Path(__file__).parent / "results" / "compare_levers.json"
PRECISIONS = ("fp32", "native", "fp16", "int8")


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def onnx_hop(data, repeats):
    example = data.val.x[:64]
    export.to_onnx(models.create("cnn", (1, 28, 28), 10, seed=100).eval(), example,
                   Path(tempfile.mkdtemp()) / "first.onnx")   # the process's first export: set-up, not counted
    times = {"before": [], "after": []}
    for i in range(repeats):
        for label in times:
            model = models.create("cnn", (1, 28, 28), 10, seed=i).eval()
            if label == "before":
                onnx_export._GRAPHS.clear()
            path = Path(tempfile.mkdtemp()) / "model.onnx"
            times[label].append(_seconds(lambda: export.to_onnx(model, example, path)))
    return times


def checkpoints(data, count):
    """``count`` trained CNN checkpoints (one epoch on 1,024 images each, seeds 0..count-1)."""
    small = dataclasses.replace(data, train=datasets.Split(data.train.x[:1024], data.train.y[:1024]))
    runs = []
    for seed in range(count):
        run_dir = Path(tempfile.mkdtemp())
        record = train_run(RunConfig(dataset=data.name, model="cnn", optimizer="adam", epochs=1, seed=seed),
                           small, out_dir=run_dir)
        runs.append((run_dir, record))
    return runs


def whole_export(data, runs):
    times = {"before": [], "after": []}
    for run_dir, _ in runs:
        for label, score in (("before", True), ("after", False)):
            times[label].append(_seconds(lambda: export.export_checkpoint(
                run_dir / "checkpoint.pt", run_dir, data=data, score=score)))
    return times


def openvino_scoring(data, runs):
    """Seconds of ``task.deploy``'s scoring at four precisions; its export is the one made before."""
    real_export, real_default = export.export_checkpoint, infer.default_execution
    manifests = {run_dir: real_export(run_dir / "checkpoint.pt", run_dir, data=data, score=False)
                 for run_dir, _ in runs}
    times = {"before": [], "after": []}
    try:
        export.export_checkpoint = lambda path, out, **kw: manifests[Path(out)]
        for run_dir, record in runs:
            for label in times:
                infer.default_execution = real_default if label == "after" else lambda device, ov_core=None: None
                times[label].append(_seconds(lambda: task.deploy(run_dir, data, record, "CPU", PRECISIONS)))
    finally:
        export.export_checkpoint, infer.default_execution = real_export, real_default
    return times


def line_search(data, repeats):
    model = models.create("cnn", (1, 28, 28), 10, seed=0).to(memory_format=torch.channels_last)
    x, y = data.train.x[:128], data.train.y[:128]

    def forward():
        return objective.loss("classification", model(x), y)

    def step():
        model.zero_grad()
        forward().backward()

    def candidate(context):
        with context():
            forward()

    times = {"training step": [], "forward, no_grad": [], "forward, inference_mode": []}
    for _ in range(repeats):
        times["training step"].append(_seconds(lambda: [step() for _ in range(10)]) / 10)
        times["forward, no_grad"].append(_seconds(lambda: [candidate(torch.no_grad) for _ in range(10)]) / 10)
        times["forward, inference_mode"].append(
            _seconds(lambda: [candidate(torch.inference_mode) for _ in range(10)]) / 10)
    return times


def medians(times):
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    machine = describe()
    data = datasets.load("fashion-mnist", seed=0)
    measured = {"ONNX hop: torch.export every run -> the kept graph": onnx_hop(data, args.repeats)}
    runs = checkpoints(data, args.repeats)
    measured["whole export: IRs scored on the validation split -> not"] = whole_export(data, runs)
    measured["scoring at fp32, native, fp16, int8: native again -> from fp32"] = openvino_scoring(data, runs)
    steps = line_search(data, 3 * args.repeats)
    saved = {"machine": machine, "load_after": describe()["load_average"], "repeats": args.repeats,
             "seconds": {name: medians(t) for name, t in measured.items()}, "line_search": medians(steps),
             "raw": {**measured, "line search": steps}}
    write_json(args.out, saved)
    print_tables(saved)
    print(f"\nwrote {args.out}")


def print_tables(saved):
    machine = saved["machine"]
    print(f"{machine['cpu']}, {machine['cores']} cores ({' '.join(machine['cpu_flags'])}); one thread; load "
          f"average {machine['load_average']:.1f} before, {saved['load_after']:.1f} after")
    print(format_table(["per run (s, median)", "before", "after", "saved"],
                       [[name, f"{m['before']:.2f}", f"{m['after']:.2f}", f"{m['before'] - m['after']:.2f}"]
                        for name, m in saved["seconds"].items()]))
    ls = saved["line_search"]
    print(f"\nline search: a forward pass is {ls['forward, no_grad'] / ls['training step']:.2f} of a training step "
          f"({1000 * ls['training step']:.1f} ms); inference_mode / no_grad: "
          f"{ls['forward, inference_mode'] / ls['forward, no_grad']:.3f}")


if __name__ == "__main__":
    main()
