"""How long one optimizer step takes: ours (fast, fused, readable) against torch.optim.

For every registry entry and two parameter sets,

- ``5M``: 5,000,000 float32 parameters in 40 tensors of 125,000;
- ``cnn``: the parameters of ``models.create("cnn", (1, 28, 28), 10)``
  (421,642 in 8 tensors),

the median wall time of ``step()`` over ``--steps`` timed steps after
``--warmup`` untimed ones (the first fused step compiles; its time is reported
as the one-off compile time), with ``torch.set_num_threads(--threads)``.
Variants, each with its own copy of the parameters and the same fixed
gradients, are timed round-robin (one step of each in turn) so that the noise
of a shared machine falls on all of them alike; each ratio is the median over
rounds of the per-round ratio (a paired estimate, steadier than a ratio of
medians when other processes load the machine):

- ours fast: the default (``update_group``, chunked ``torch._foreach_*``);
- ours fused: ``fused=True`` (Adam, AdamW, SGD, Adagrad): a ``torch.compile``d kernel;
- ours readable: ``foreach=False``, the per-tensor lecture formula;
- torch default / foreach / fused: the torch.optim twin with ``foreach=None``,
  ``foreach=True``, ``fused=True`` (where torch has a fused kernel);
- torch default again: a second, identical torch default. Its ratio to the
  first (column A/A) is what the same code measures against itself here: the
  noise floor, and the resolution of every other ratio.

Peak extra memory: one more step of each variant under ``torch.profiler``
with ``profile_memory=True``; every allocation and free through torch's CPU
allocator (including those of compiled kernels and torch's fused kernels) is
an event with a signed size; the peak of their running sum is the memory the
step needed beyond the parameters, gradients and state it started with. It
is reported in units of the parameters' own size (target: <= 1.0, i.e. one
parameter-sized buffer per tensor; 1% slack covers the step counters and
scalar tensors).

    python3 benchmarks/optimizer_step.py [--steps 30] [--only adam,sgd] [--sets 5M,cnn]
"""

import argparse
import inspect
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch._C._profiler import _EventType

from descentlab import models
from descentlab import optimizers
from descentlab.io import write_json
from descentlab.cli.table import format_table

DEFAULT_OUT = Path(__file__).parent / "results" / "optimizer_step.json"
# Targets: ours <= 1.0x torch's default path; <= 1.25x torch's fused kernel for these.
FUSED_TARGET = {"adam": 1.25, "adamw": 1.25, "amsgrad": 1.25, "sgd": 1.25, "adagrad": 1.25}
SHAPES = {
    "5M": [(125_000,)] * 40,
    "cnn": [tuple(p.shape) for p in models.create("cnn", (1, 28, 28), 10).parameters()],
}


def fresh(shapes, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g) for s in shapes]


def variants(name, shapes, grads):
    """name -> a step function, each over its own copy of the parameters."""
    entry = optimizers.info(name)
    hp = optimizers.defaults(name)

    def params():
        ps = [p.requires_grad_() for p in fresh(shapes, 0)]
        for p, g in zip(ps, grads):
            p.grad = g
        return ps

    found = {}
    if entry.cls.has_fast_path():
        found["ours fast"] = optimizers.create(name, params()).step
    if entry.cls.has_fused_path():
        found["ours fused"] = optimizers.create(name, params(), fused=True).step
    readable = {"foreach": False} if "foreach" in hp else {}
    found["ours readable"] = optimizers.create(name, params(), **readable).step
    twin = entry.counterpart(hp) if entry.counterpart else None
    if twin is not None:
        cls, kwargs = twin
        kwargs = {k: v for k, v in kwargs.items() if k not in ("foreach", "fused")}
        found["torch default"] = cls(params(), **kwargs).step
        found["torch default again"] = cls(params(), **kwargs).step   # A/A control: the noise floor
        found["torch foreach"] = cls(params(), **kwargs, foreach=True).step
        if "fused" in inspect.signature(cls.__init__).parameters:
            found["torch fused"] = cls(params(), **kwargs, fused=True).step
    return found


def peak_extra_bytes(step):
    """Peak of the running sum of CPU allocations (+) and frees (-) during ``step()``."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                profile_memory=True) as prof:
        step()
    stack, events = list(prof.profiler.kineto_results.experimental_event_tree()), []
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if event.tag == _EventType.Allocation:
            events.append((event.start_time_ns, event.extra_fields.alloc_size))
    running = peak = 0
    for _, size in sorted(events):
        running += size
        peak = max(peak, running)
    return peak


def measure(name, shapes, steps, warmup):
    grads = fresh(shapes, 1)
    steppers = variants(name, shapes, grads)
    compile_seconds = None
    for label, step in steppers.items():
        start = time.perf_counter()
        step()
        if label == "ours fused":
            compile_seconds = time.perf_counter() - start
        for _ in range(warmup - 1):
            step()
    times = {label: [] for label in steppers}
    for _ in range(steps):
        for label, step in steppers.items():
            start = time.perf_counter()
            step()
            times[label].append(time.perf_counter() - start)
    param_bytes = sum(g.numel() * g.element_size() for g in grads)
    return {
        "times_ms": {label: [x * 1e3 for x in t] for label, t in times.items()},
        "median_ms": {label: statistics.median(t) * 1e3 for label, t in times.items()},
        "min_ms": {label: min(t) * 1e3 for label, t in times.items()},
        "peak_extra_bytes": {label: peak_extra_bytes(step) for label, step in steppers.items()},
        "param_bytes": param_bytes,
        "fused_compile_seconds": compile_seconds,
    }


def paired_ratio(times, ours, theirs):
    """Median over rounds of min(ours' variants) / min(theirs) in the same round."""
    return statistics.median(min(times[k][i] for k in ours) / min(times[k][i] for k in theirs)
                             for i in range(len(times[theirs[0]])))


def summarise(name, r):
    """Ratios and target checks of one result."""
    times = r["times_ms"]
    fast = ["ours fast"] if "ours fast" in times else ["ours readable"]
    ours = [k for k in ("ours fast", "ours fused") if k in times] or fast
    s = {}
    if "torch default" in times:
        s["fast_vs_torch_default"] = paired_ratio(times, fast, ["torch default"])
        s["ours_vs_best_torch"] = paired_ratio(times, ours, [k for k in times if k.startswith("torch")])
        s["torch_default_a_a"] = paired_ratio(times, ["torch default again"], ["torch default"])
    if "torch fused" in times:
        s["ours_vs_torch_fused"] = paired_ratio(times, ours, ["torch fused"])
    memory = [r["peak_extra_bytes"][k] for k in ours]
    s["fast_peak_extra_vs_params"] = max(memory) / r["param_bytes"]
    checks = [s.get("fast_vs_torch_default", 0) <= 1.0, s["fast_peak_extra_vs_params"] <= 1.01]
    if name in FUSED_TARGET and "ours_vs_torch_fused" in s:
        checks.append(s["ours_vs_torch_fused"] <= FUSED_TARGET[name])
    s["targets_met"] = all(checks)
    return s


def row(set_name, name, r, s):
    ms = r["median_ms"]
    cell = lambda k: f"{ms[k]:.2f}" if k in ms else "-"  # noqa: E731
    ratio = lambda k: f"{s[k]:.2f}" if k in s else "-"  # noqa: E731
    extra = r["peak_extra_bytes"]
    mem = "/".join(f"{extra[k] / r['param_bytes']:.3f}" for k in ("ours fast", "ours fused") if k in extra) or \
        f"{extra['ours readable'] / r['param_bytes']:.3f}"
    return [set_name, name, cell("ours fast"), cell("ours fused"), cell("ours readable"), cell("torch default"),
            cell("torch foreach"), cell("torch fused"), ratio("torch_default_a_a"), ratio("fast_vs_torch_default"),
            ratio("ours_vs_torch_fused"), ratio("ours_vs_best_torch"), mem,
            "yes" if s["targets_met"] else "NO"]


HEADER = ["set", "optimizer", "ours fast", "ours fused", "ours readable", "torch default", "torch foreach",
          "torch fused", "A/A", "fast/default", "ours/fused", "ours/best torch", "extra mem (x params)", "targets"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per variant (median reported)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (the first one compiles)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", help="comma-separated registry names (default: all)")
    parser.add_argument("--sets", default="5M,cnn", help=f"comma-separated, from {', '.join(SHAPES)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else optimizers.available()
    sets = args.sets.split(",")
    for n in names:
        optimizers.info(n)  # unknown name -> ValueError with the list
    unknown = [s for s in sets if s not in SHAPES]
    if unknown or args.steps < 1 or args.warmup < 1:
        parser.error(f"--sets from {', '.join(SHAPES)}; --steps and --warmup >= 1")
    torch.set_num_threads(args.threads)

    rows, results, skipped = [], [], []
    for set_name in sets:
        for name in names:
            if optimizers.info(name).needs_closure:
                skipped.append(name)  # its step is loss evaluations, not an update to time
                continue
            r = measure(name, SHAPES[set_name], args.steps, args.warmup)
            s = summarise(name, r)
            results.append({"set": set_name, "optimizer": name, **r, **s})
            del r["times_ms"]
            rows.append(row(set_name, name, r, s))
            print(f"  {set_name} {name}: done", file=sys.stderr)

    print(f"median ms per step over {args.steps} steps after {args.warmup} warm-up, {args.threads} threads, "
          f"torch {torch.__version__}; A/A: torch default against an identical copy (the noise floor); fast/default: ours fast / torch default (target <= 1.0); "
          f"ours/fused: best of ours / torch fused (target <= 1.25 for adam, adamw, amsgrad, sgd, adagrad); "
          "extra mem: peak extra bytes of ours fast/fused over parameter bytes (target <= 1.0)\n")
    print(format_table(HEADER, rows))
    compiles = [(r["set"], r["optimizer"], r["fused_compile_seconds"]) for r in results if r["fused_compile_seconds"]]
    if compiles:
        print("\nfirst fused step (compile, or load from the inductor cache): " +
              ", ".join(f"{s} {n} {c:.1f} s" for s, n, c in compiles))
    if skipped:
        print(f"not timed (step needs a closure): {', '.join(sorted(set(skipped)))}")
    write_json(args.out, {"benchmark": "optimizer_step", "steps": args.steps, "warmup": args.warmup,
                          "threads": args.threads, "torch": torch.__version__,
                          "machine": platform.processor() or platform.machine(),
                          "sets": {k: [list(s) for s in SHAPES[k]] for k in sets}, "results": results})
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
