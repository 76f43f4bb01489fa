"""The lecture experiments: one module each, one command each.

Every experiment module has ``NAME``, ``TITLE`` (its claim, used as the
figure title), ``CLAIM`` (a few sentences), ``LECTURE`` (where the lecture
says it), ``measure(fast) -> (numbers, data)`` (the runs; ``numbers`` is what
the claim rests on, JSON-ready, with a ``checks`` dict of the claim's parts)
and ``draw(data, out) -> [figure file names]``; optionally ``NOTE``, how to
read the figure (where a measured line leaves its guide line, and why),
which the README prints under the claim.
``tests/test_labs_experiments.py`` asserts each claim from ``measure``'s
numbers.

``run(name, out, fast)`` writes into ``out``: the figures, ``result.json``
(the numbers, the claim, the lecture, the figures) and ``README.md`` (the
claim, the citation, the figures and the numbers).
"""

import importlib
import json
import pathlib
import time

from descentlab import io
from descentlab.labs.threads import one_thread
from descentlab.optimizers.registry import unknown_name

NAMES = ("learning-rates", "momentum-nag", "batch-sizes", "adaptive-sparse", "bias-correction",
         "schedules", "line-search", "optimal-step", "momentum-theory", "clipping", "recent-optimizers")


def available():
    return list(NAMES)


def get(name):
    """The experiment module ``name``; ``ValueError`` with a suggestion if unknown."""
    if name not in NAMES:
        raise unknown_name("experiment", name, NAMES + ("all",))
    return importlib.import_module(f"descentlab.labs.experiments.{name.replace('-', '_')}")


def describe():
    """One dict per experiment, for ``descentlab lab list``."""
    return [{"name": n, "title": get(n).TITLE, "lecture": get(n).LECTURE} for n in NAMES]


def run(name, out, fast=False):
    """Run experiment ``name`` into directory ``out``; returns its result dict."""
    module = get(name)
    out = pathlib.Path(out)
    began = time.perf_counter()
    with one_thread():
        numbers, data = module.measure(fast)
        figures = module.draw(data, out)
    result = {"experiment": name, "title": module.TITLE, "claim": module.CLAIM,
              "lecture": module.LECTURE, "note": getattr(module, "NOTE", None), "fast": fast, "claim_holds": all(numbers["checks"].values()),
              "seconds": round(time.perf_counter() - began, 2), "figures": figures, **numbers}
    io.write_json(out / "result.json", result)
    io.write_text(out / "README.md", readme(result))
    return result


def run_all(out, fast=False, on_done=None):
    """Every experiment, each into ``out/<name>``; ``on_done(result)`` after each."""
    results = []
    for name in NAMES:
        result = run(name, pathlib.Path(out) / name, fast)
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results


def readme(result):
    checks = "\n".join(f"- {'holds' if ok else 'FAILS'}: {text}" for text, ok in result["checks"].items())
    figures = "\n\n".join(f"![{f}]({f})" for f in result["figures"])
    numbers = {k: v for k, v in result.items()
               if k not in ("experiment", "title", "claim", "lecture", "note", "checks", "figures", "claim_holds")}
    note = f"## Reading the figure\n\n{result['note']}\n\n" if result["note"] else ""
    return (f"# {result['title']}\n\n{result['claim']}\n\nSource: {result['lecture']}.\n\n"
            f"{figures}\n\n{note}## What this run measured\n\n{checks}\n\n"
            f"```json\n{json.dumps(numbers, indent=1)}\n```\n\n"
            f"Reproduce: `descentlab lab run {result['experiment']} --out DIR"
            f"{' --fast' if result['fast'] else ''}`\n")
