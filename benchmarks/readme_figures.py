"""The docs' measured figures, rendered from the committed JSON under ``benchmarks/results/``.

    python3 benchmarks/readme_figures.py            # check: exit 1 naming every block that differs
    python3 benchmarks/readme_figures.py --write    # rewrite those blocks from the JSON

Every number a page (README.md, the docs/ pages, benchmarks/README.md: ``FILES``)
quotes from a benchmark sits between ``<!-- figures NAME -->`` and
``<!-- /figures NAME -->``; the block's text is exactly what ``BLOCKS[NAME]``
renders from its JSON file. A figure that
no committed JSON backs, or a JSON rerun the README was not updated for, makes
the check (and ``tests/test_readme_figures.py``) fail.
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _load(name):
    return json.loads((RESULTS / name).read_text())


def _pct(value, digits=2):
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def _num(value, spec):
    return "—" if value is None else format(value, spec)


def compare_fmnist():
    data = _load("compare_fmnist_cnn.json")
    target = data["settings"]["target_accuracy"]
    lines = [f"| rank | optimizer | lr | PyTorch test acc. | test loss | epochs to {_pct(target, 1)} val. "
             "| OpenVINO FP32 | FP16 | INT8 | INT8 − FP32 (points) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for rank, row in enumerate(data["rows"], 1):
        ov = row["openvino"]
        delta = (None if ov.get("int8") is None or ov.get("fp32") is None else 100 * (ov["int8"] - ov["fp32"]))
        epochs = row["epochs_to_target"]
        lines.append(f"| {rank} | {row['optimizer']} | {row['lr']:g} | {row['test_accuracy']:.4f} "
                     f"| {row['test_loss']:.3f} | {'—' if epochs is None else f'{epochs:g}'} "
                     f"| {_num(ov.get('fp32'), '.4f')} | {_num(ov.get('fp16'), '.4f')} "
                     f"| {_num(ov.get('int8'), '.4f')} | {_num(delta, '+.2f')} |")
    hops = {}
    for row in data["rows"]:
        for stage, diff in row["max_abs_diff"].items():
            hops.setdefault(stage, []).append(diff)
    spread = ", ".join(f"{stage} {min(v):.2g}–{max(v):.2g}" for stage, v in hops.items())
    same = sum(row["openvino"].get("fp32") == row["test_accuracy"] for row in data["rows"])
    lines += ["", f"FP32 IR accuracy = PyTorch's for {same} of {len(data['rows'])} optimizers. "
                  f"Largest |logit difference| from PyTorch per hop: {spread}."]
    return "\n".join(lines)


def inference():
    data = _load("inference.json")
    rows = {(r["backend"], r["precision"]): r for r in data["bench"]["rows"] if not r["skipped"]}
    acc = data["accuracy"]
    lines = ["| backend | precision | test accuracy | latency median (batch 1) | images/s (batch 64) |",
             "|---|---|---|---|---|"]
    names = {"openvino": "OpenVINO", "onnxruntime": "ONNX Runtime", "pytorch": "PyTorch eager"}
    for (backend, precision), r in rows.items():
        accuracy = acc.get(precision if backend == "openvino" else backend, {}).get("accuracy")
        lines.append(f"| {names[backend]} | {precision} | {_pct(accuracy)} | {r['latency']['median_ms']:.3f} ms "
                     f"| {r['throughput']['fps']:,.0f} |")
    int8, ort, torch = rows[("openvino", "int8")], rows[("onnxruntime", "fp32")], rows[("pytorch", "fp32")]
    app = list(data["benchmark_app"].values())
    lines += ["", f"OpenVINO INT8 throughput: {int8['throughput']['fps'] / ort['throughput']['fps']:.1f}× ONNX "
                  f"Runtime, {int8['throughput']['fps'] / torch['throughput']['fps']:.1f}× PyTorch. Our timing loop "
                  f"against `benchmark_app` (same hint, batch and duration): throughput ratio {app[0]['ratio']:.3f}, "
                  f"median latency ratio {app[1]['ratio']:.3f}."]
    return "\n".join(lines)


def optimizer_step():
    data = _load("optimizer_step.json")
    fused = {r["optimizer"]: r["ours_vs_torch_fused"] for r in data["results"]
             if r["set"] == "5M" and r.get("ours_vs_torch_fused") is not None}
    order = [n for n in ("adam", "adamw", "amsgrad", "adagrad", "sgd") if n in fused]
    ratios = [fused[n] for n in order]
    return (f"On 5M parameters in 40 tensors (`benchmarks/results/optimizer_step.json`), our fused step takes "
            f"{min(ratios):.2f}–{max(ratios):.2f}× the time of torch's fused C++ kernel ("
            + ", ".join(f"{n} {fused[n]:.2f}" for n in order) + ").")


def batching():
    data = _load("batching.json")
    ours = next(m for m in data["methods"] if m["method"].startswith("epoch_batches"))
    return (f"One Fashion-MNIST epoch of {data['batch_size']}-batches takes "
            f"{1000 * ours['median_seconds_per_epoch']:.1f} ms (`python3 benchmarks/batching.py`).")


def export_seconds():
    row = next(r for r in _load("export.json")["rows"] if r["model"] == "cnn")
    s = row["seconds"]
    return (f"Fashion-MNIST `cnn`: {s['onnx']:.1f} s ONNX, {s['openvino']:.1f} s IR, {s['int8']:.1f} s INT8 "
            "(`python3 benchmarks/export.py`, measured under load).")


def precision_fmnist():
    data = _load("precision_fmnist.json")
    order = ("fp32", "native", "fp16", "int8")
    runs_in = data["compare"][0]["openvino"]["native"]["runs_in"]
    lines = [f"| optimizer | PyTorch | FP32 | NATIVE ({runs_in}) | FP16 | INT8 | INT8 flips vs PyTorch "
             "(right→wrong / wrong→right) |", "|---|---|---|---|---|---|---|"]
    for row in data["compare"]:
        cells = []
        for p in order:
            r = row["openvino"][p]
            noise = "within noise" if r["within_noise"] else "beyond noise"
            cells.append(f"{r['test_accuracy']:.4f} ({100 * r['delta_vs_torch']:+.2f}, {noise})")
        flips = row["openvino"]["int8"]["flips"]
        lines.append(f"| {row['optimizer']} | {row['torch_test_accuracy']:.4f} | " + " | ".join(cells)
                     + f" | {flips['right_to_wrong']} / {flips['wrong_to_right']}, "
                       f"p = {row['openvino']['int8']['mcnemar_p']:.2g} |")
    needed = [r["optimizer"] for r in data["compare"] if r["int8"]["accuracy_control_needed"]]
    lines += ["", f"INT8 accuracy control (`--max-accuracy-drop {data['compare'][0]['int8']['max_accuracy_drop']:g}`) "
                  f"was needed by: {', '.join(needed) or 'none'}. Every row of `descentlab bench` on the Adam run "
                  "ran in " + ", ".join(sorted({f"{next(iter(r['execution'].values()))}" for r in data["bench"]["rows"]}))
                  + f" on {data['cpu']['name']} ({', '.join(data['cpu']['flags'])})."]
    return "\n".join(lines)


def distributed():
    data = _load("distributed.json")
    load = data["environment"]["load_average_before"][0]
    lines = [f"Measured under a load average of {load:.0f} on {data['environment']['cpu_count']} cores "
             f"(`python benchmarks/distributed.py {' '.join(data['settings'])}`: the digits comparison of all "
             "17 optimizers):", "",
             "| launch | wall s | sum of the runs' training s | largest difference from one process |",
             "|---|---:|---:|---:|"]
    for name, launch in data["launches"].items():
        lines.append(f"| {name} | {launch['wall_seconds']:.1f} | {launch['train_seconds_sum']:.1f} "
                     f"| {launch['max_difference_vs_one_process']:.2g} |")
    return "\n".join(lines)


def _compare_time_module():
    """benchmarks/compare_time.py, whose tables the two compare-time blocks render (it imports
    its sibling scripts, so their folder must be importable when this one is loaded by path)."""
    import importlib.util

    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))

    spec = importlib.util.spec_from_file_location("compare_time", ROOT / "benchmarks" / "compare_time.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _markdown(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def compare_time():
    """The README's summary: the serious comparison's wall time before and after on each CPU,
    the bare loop's set-ups, the line search's cost against a plain run, and where the core time
    of the latest 5-epoch measurement on each CPU in each training precision went."""
    module, data = _compare_time_module(), _load("compare_time.json")
    runs = data["measurements"]
    lines = ["| measurement | CPU | training precision | epochs | seeds | processes x threads | wall time "
             "| outside training steps | load before / after |", "|---|---|---|---:|---|---|---:|---:|---|"]
    for label, m in runs.items():
        seeds = ",".join(map(str, m["seeds"])) if isinstance(m["seeds"], list) else m["seeds"]
        lines.append(f"| {label} | {module.cpu(m)} | {m.get('train_precision', 'fp32')} | {m['epochs']} | {seeds} "
                     f"| {module.layout(m)} | {m['wall'] / 60:.1f} min | {100 * m['outside_training_share']:.1f} % "
                     f"| {' / '.join(f'{x:.1f}' for x in m['load'])} |")
    for name, m in module.latest_per_cpu(data).items():
        lines += ["", f"The bare training step (Adam, batch 128) on {name}, {m['machine']['cores']} cores: "
                      + "; ".join(f"{setup} {row['ms_per_step']:.1f} ms" for setup, row in m["bare_loop"].items())
                      + "."]
    ratios = []
    for label, m in runs.items():
        train = {}
        for r in m["runs"]:
            train.setdefault(r["optimizer"], []).append(r["train_s"])
        if "linesearch" in train and "adam" in train:
            ratios.append(f"{sum(train['linesearch']) / sum(train['adam']):.2f}x ({label})")
    if ratios:
        lines += ["", "The line search's training time against Adam's: " + ", ".join(ratios) + "."]
    full = {(module.cpu(m), m.get("train_precision", "fp32")): (label, m) for label, m in runs.items() if m["epochs"] == 5}
    for (name, precision), (label, m) in full.items():
        bound = 5 * 55000 * len(m["runs"]) / m["flop_bound_samples_per_s"]
        cores = m["workers"] * m["wall"]
        shares = {phase: seconds / cores for phase, seconds in m["phases"].items()}
        shares["idle or unaccounted"] = 1 - sum(shares.values())
        lines += ["", f"`{label}` on {name}: at the {precision} matmul peak of its cores, the training arithmetic "
                      f"of its {len(m['runs'])} runs alone would take {bound / 60:.1f} min. Where its core time "
                      "went: " + ", ".join(f"{phase} {100 * share:.1f} %"
                                           for phase, share in sorted(shares.items(), key=lambda kv: -kv[1])) + "."]
    return "\n".join(lines)


def train_precision():
    """docs/compare.md: bf16 training's effect on test accuracy against fp32, per setting and CPU."""
    data, cpu = _load("train_precision.json"), _compare_time_module().cpu
    lines = ["| setting | CPU | optimizers x seeds | bf16 − fp32, mean (points) | per optimizer, lowest … highest "
             "| paired t over seeds, p < 0.05 | McNemar pooled over seeds, p < 0.05 |",
             "|---|---|---:|---:|---|---|---|"]
    for m in data["measurements"].values():
        setting, rows = m["setting"], m["optimizers"]
        low, high = (min(rows, key=lambda n: rows[n]["difference_mean"] * sign) for sign in (1, -1))
        changed = sorted(n for n, r in rows.items() if r["mcnemar_p_pooled"] < 0.05)
        where = cpu({"machine": m["machine"]}) + (", bf16 emulated by torch" if m["bf16_emulated"] else "")
        if "fp32_machine" in m:
            fp32_cpu = cpu({"machine": m["fp32_machine"]})
            where = (f"two serious comparisons, fp32 and bf16, both on {where}" if fp32_cpu == where
                     else f"two serious comparisons: fp32 on {fp32_cpu}, bf16 on {where}")
        lines.append(f"| {setting['dataset']} {setting['model']}, {setting['epochs']} epoch{'s' * (setting['epochs'] != 1)}, batch "
                     f"{setting['batch_size']} | {where} | {len(rows)} x {len(setting['seeds'])} "
                     f"| {100 * m['overall']['difference_mean']:+.2f} "
                     f"| {100 * rows[low]['difference_mean']:+.2f} ({low}) … {100 * rows[high]['difference_mean']:+.2f} "
                     f"({high}) | {', '.join(m['overall']['significant_optimizers']) or 'none'} "
                     f"| {', '.join(changed) or 'none'} |")
    return "\n".join(lines)


def compare_levers():
    """docs/time-to-answer.md: what each lever outside training saves per run (compare_levers.py)."""
    data = _load("compare_levers.json")
    machine, ls = data["machine"], data["line_search"]
    lines = ["| per run, one thread (median s) | before | after | saved |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {m['before']:.2f} | {m['after']:.2f} | {m['before'] - m['after']:.2f} |"
              for name, m in data["seconds"].items()]
    lines += ["", f"On {machine['cpu']} ({machine['cores']} cores, {' '.join(machine['cpu_flags'])}), load average "
                  f"{machine['load_average']:.1f} before and {data['load_after']:.1f} after (shared with other "
                  f"work: read the differences, not the absolute seconds); {data['repeats']} runs each, "
                  "before and after alternating. The line search: a forward pass costs "
                  f"{ls['forward, no_grad'] / ls['training step']:.2f} of a training step; its candidates' "
                  f"forward passes under `torch.inference_mode` instead of `torch.no_grad`: "
                  f"{ls['forward, inference_mode'] / ls['forward, no_grad']:.3f} of the time."]
    return "\n".join(lines)


def compare_time_tables():
    """benchmarks/README.md: every table ``compare_time.py`` prints."""
    module, data = _compare_time_module(), _load("compare_time.json")
    return "\n\n".join([*(module.machine_line(m) + "." for m in module.latest_per_cpu(data).values()),
                        *(_markdown(*table) for table in module.tables(data))])


def suite_time():
    """docs/testing.md and benchmarks/README.md: the test suite's wall time, before and after on
    each CPU, and the slowest tests of the last full-suite measurement (suite_time.py)."""
    data, cpu = _load("suite_time.json")["runs"], _compare_time_module().cpu
    rows = [[label, f"{cpu(run)}, {run['machine']['cores']} cores", run["commit"],
             f"`{run['command'].split('pytest', 1)[1].strip()}`", run["compile_cache"],
             f"{run['wall']:.0f} s", f"{run['passed']} / {run['failed']} / {run['skipped']}",
             f"{run['tests_seconds']:.0f} s", " / ".join(f"{x:.1f}" for x in run["load"])]
            for label, run in data.items()]
    lines = [_markdown(["measurement", "CPU", "commit", "pytest arguments", "compile cache", "wall time",
                        "passed / failed / skipped", "tests' own seconds", "load before / after"], rows)]
    label, last = [(label, run) for label, run in data.items() if run["lane"] == "all"][-1]
    lines += ["", f"The slowest tests of `{label}` (seconds, setup and teardown included): "
                  + "; ".join(f"{name.split('/', 1)[1]} {seconds:.1f}" for name, seconds in last["slowest_tests"][:8])
                  + "."]
    return "\n".join(lines)


BLOCKS = {"compare-time": compare_time, "compare-fmnist": compare_fmnist, "precision-fmnist": precision_fmnist,
          "distributed": distributed, "inference": inference, "optimizer-step": optimizer_step,
          "batching": batching, "export-seconds": export_seconds, "compare-time-tables": compare_time_tables,
          "train-precision": train_precision, "compare-levers": compare_levers, "suite-time": suite_time}
PATTERN = re.compile(r"<!-- figures (?P<name>[\w-]+) -->\n(?:(?P<body>.*?)\n)?<!-- /figures (?P=name) -->", re.S)

# Which page holds which blocks (the benchmarks' own README holds the full tables).
FILES = {ROOT / path: {name: BLOCKS[name] for name in names} for path, names in {
    "docs/compare.md": ["compare-fmnist", "train-precision"],
    "docs/time-to-answer.md": ["compare-time", "compare-levers"],
    "docs/data-and-models.md": ["batching"],
    "docs/scaling.md": ["distributed"],
    "docs/openvino.md": ["export-seconds", "inference", "precision-fmnist"],
    "docs/fast-steps.md": ["optimizer-step"],
    "benchmarks/README.md": ["compare-time-tables", "suite-time"],
    "docs/testing.md": ["suite-time"],
}.items()}


def render(readme, blocks):
    """``(new page text, names of the blocks that changed)``; ``ValueError`` for an unknown or missing block."""
    found = [m.group("name") for m in PATTERN.finditer(readme)]
    unknown = sorted(set(found) - set(blocks))
    missing = sorted(set(blocks) - set(found))
    if unknown or missing:
        raise ValueError(f"blocks unknown: {unknown}, missing: {missing}")
    changed = []

    def replace(match):
        name, body = match.group("name"), blocks[match.group("name")]()
        if body != match.group("body"):
            changed.append(name)
        return f"<!-- figures {name} -->\n{body}\n<!-- /figures {name} -->"

    return PATTERN.sub(replace, readme), changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the blocks that differ")
    args = parser.parse_args(argv)
    stale = []
    for path, blocks in FILES.items():
        text, changed = render(path.read_text(), blocks)
        if args.write:
            path.write_text(text)
            print(f"{path.relative_to(ROOT)}: rewrote {', '.join(changed) or 'nothing'}")
        stale += [f"{path.relative_to(ROOT)}: {name}" for name in changed]
    if stale and not args.write:
        print(f"figures differ from their JSON: {', '.join(stale)} "
              "(python3 benchmarks/readme_figures.py --write)")
        return 1
    if not args.write:
        print("every page's figures match their JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())
