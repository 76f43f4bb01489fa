"""Gradescope: the ``results.json`` of a grading, and the autograder folder that writes it there.

``results(reports, config)`` is Gradescope's results.json
(gradescope-autograders.readthedocs.io, "Autograder Specifications"): one
test per check with its score, max_score, name, number, output (the text
``lab check`` prints for that check), tags, visibility, status, and our
extras under ``extra_data``. Without a config (``lab check --json``) every
check is worth one point and visible.

``build(directory)`` writes what Gradescope runs (``descentlab lab
autograder --out DIR``): ``setup.sh`` (torch's CPU build and numpy, at the
versions installed here), ``run_autograder``, ``config.json`` (the
instructor's points, visibility and hidden checks), and the grading modules
of descentlab itself under ``descentlab/``, so that nothing of ours is
fetched from the network.
``run_autograder`` calls ``python -m descentlab.labs.gradescope ROOT``
(``main``): it grades ``ROOT/submission`` and writes
``ROOT/results/results.json``; ROOT is /autograder, or
``$DESCENTLAB_AUTOGRADER_ROOT``.
"""

import importlib.metadata
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from descentlab.errors import UserError
from descentlab.io import atomic_write, write_text

from . import checks, feedback, grader, notebook_cells, runs
from .runs import Check

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
POINTS = 10.0   # per exercise, by default
ABOUT = [
    "Edit this file, then zip the folder's contents (not the folder) and upload the zip to Gradescope.",
    "points: the exercise's weight, split evenly over its checks (visible and hidden).",
    "checks: the visibility of each check `lab check` runs: visible, hidden, after_due_date or after_published "
    "(remove a check to leave it out).",
    "hidden_checks: checks `lab check` does not run: steps, seed, scale (of the random gradients) and "
    "hparams (the constructor's keyword arguments) are yours to change, as is visibility.",
    "Remove an exercise to leave it out of the assignment. timeout_seconds: the time limit per exercise.",
]
# What the autograder folder carries of descentlab: the package root, the
# optimizers (our solutions) and the grader's modules.
BUNDLE = {"descentlab": ("__init__", "errors", "io"),
          "descentlab.labs": ("__init__", "checks", "diagnosis", "feedback", "gradescope", "grader",
                              "isolation", "mistakes", "notebook_cells", "runs", "sandbox"),
          "descentlab.optimizers": None}   # None: every module


def _visibility(report, check, config):
    settings = config["exercises"][report.exercise]
    if check.hidden:
        return next(h["visibility"] for h in settings["hidden_checks"] if h["name"] == check.name)
    return settings["checks"][check.name]


def default_config(hidden=False):
    """Every exercise at ``POINTS``, its checks visible, its hidden checks (if
    ``hidden``) shown after the due date."""
    exercises = {}
    for name, exercise in checks.EXERCISES.items():
        extra = [{"name": c.name, "steps": c.steps, "seed": c.seed, "scale": c.scale, "hparams": c.hparams,
                  "visibility": "after_due_date"} for c in exercise.hidden] if hidden else []
        exercises[name] = {"points": POINTS, "checks": {c.name: "visible" for c in exercise.checks},
                           "hidden_checks": extra}
    return {"about": ABOUT, "timeout_seconds": 10.0, "stdout_visibility": "hidden", "exercises": exercises}


def load_config(path):
    """The config at ``path``, checked: ``UserError`` naming the first bad entry."""
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable JSON config ({exc})") from None

    def need(ok, where, what):
        if not ok:
            raise UserError(f"{path}: {where} must be {what}")

    need(isinstance(config, dict) and isinstance(config.get("exercises"), dict), "exercises",
         "an object of exercise name -> settings")
    timeout = config.get("timeout_seconds", 10.0)
    need(isinstance(timeout, (int, float)) and timeout > 0, "timeout_seconds", "a number > 0")
    need(config.get("stdout_visibility", "hidden") in VISIBILITIES, "stdout_visibility", " or ".join(VISIBILITIES))
    for name, settings in config["exercises"].items():
        exercise = checks.exercise(name)   # ValueError with the names there are
        need(isinstance(settings, dict), name, "an object with points, checks and hidden_checks")
        points = settings.get("points")
        need(isinstance(points, (int, float)) and points >= 0, f"{name}.points", "a number >= 0")
        visible = settings.get("checks", {})
        need(isinstance(visible, dict) and set(visible) <= {c.name for c in exercise.checks},
             f"{name}.checks", f"an object of check name -> visibility, names among: "
             f"{', '.join(c.name for c in exercise.checks)}")
        for check, visibility in visible.items():
            need(visibility in VISIBILITIES, f"{name}.checks[{check!r}]", " or ".join(VISIBILITIES))
        hidden = settings.get("hidden_checks", [])
        need(isinstance(hidden, list), f"{name}.hidden_checks", "a list")
        for i, entry in enumerate(hidden):
            where = f"{name}.hidden_checks[{i}]"
            need(isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"], where,
                 "an object with a name")
            need(set(entry) <= _HIDDEN_KEYS, where, f"an object with {', '.join(sorted(_HIDDEN_KEYS))} only")
            need(entry.get("visibility") in VISIBILITIES, f"{where}.visibility", " or ".join(VISIBILITIES))
            need(_integer(entry.get("steps", 5), 1), f"{where}.steps", "an integer >= 1")
            need(_integer(entry.get("seed", 0), 0), f"{where}.seed", "an integer >= 0")
            scale = entry.get("scale", 1.0)
            need(isinstance(scale, (int, float)) and 0 < scale < float("inf"), f"{where}.scale", "a number > 0")
            need(isinstance(entry.get("hparams", {}), dict), f"{where}.hparams", "an object of keyword arguments")
            try:   # our solution must run it: an unknown or invalid hyperparameter fails here
                runs.run(exercise.kind, exercise.reference, _hidden_check(entry))
            except (TypeError, ValueError) as exc:
                raise UserError(f"{path}: {where}: our {exercise.symbol} cannot run it ({exc})") from None
        names = [c for c in visible] + [h["name"] for h in hidden]
        need(len(set(names)) == len(names), f"{name}: check names", "distinct")
    return config


_HIDDEN_KEYS = {"name", "steps", "seed", "scale", "hparams", "visibility"}


def _integer(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _hidden_check(entry):
    return Check.from_dict({**{k: v for k, v in entry.items() if k != "visibility"}, "hidden": True})


def checks_to_run(config):
    """Exercise name -> the checks the config grades: its visible ones, then its hidden ones."""
    chosen = {}
    for name, settings in config["exercises"].items():
        exercise = checks.exercise(name)
        visible = [c for c in exercise.checks if c.name in settings.get("checks", {})]
        chosen[name] = tuple(visible) + tuple(_hidden_check(h) for h in settings.get("hidden_checks", []))
    return chosen


def _extra_data(report, check, result):
    extra = {"exercise": report.exercise, "hidden": check.hidden}
    if result is None:
        return extra
    if result.relative_error is not None:
        extra["relative_error"] = result.relative_error if result.relative_error != float("inf") else None
        extra["tolerance"] = result.tolerance
    if result.mistake:
        extra["mistake"] = result.mistake.key
    if result.diagnosis:
        extra["first_difference"] = result.diagnosis.first
        extra["pattern"] = result.diagnosis.pattern
    if result.error:
        extra["error"] = result.error["type"]
    return extra


def results(reports, config=None, execution_time=None):
    """Gradescope's results.json of ``reports`` (see the module docstring)."""
    tests, summary = [], []
    for i, report in enumerate(reports, 1):
        planned = report.planned
        points = config["exercises"][report.exercise]["points"] if config else float(len(planned))
        worth = points / len(planned) if planned else 0.0
        by_name = {c.name: c for c in report.checks}
        problem = feedback.problem(report)
        for k, check in enumerate(planned, 1):
            result = by_name.get(check.name)
            passed = bool(result and result.passed)
            if result is None:
                output = problem
            elif passed:
                output = f"passed: rel. error {result.relative_error:.1e} (tolerance {result.tolerance:.1e})"
            else:
                output = "\n".join(feedback.check_lines(report, result))
            visibility = _visibility(report, check, config) if config else "visible"
            tests.append({"name": f"{report.exercise}: {check.name}", "number": f"{i}.{k}",
                          "score": worth if passed else 0.0, "max_score": worth,
                          "status": "passed" if passed else "failed", "output": output,
                          "tags": [report.exercise], "visibility": visibility,
                          "extra_data": _extra_data(report, check, result)})
        shown = [c for c in planned if not c.hidden]
        summary.append(f"{report.exercise} ({report.label}): "
                       f"{sum(by_name[c.name].passed for c in shown if c.name in by_name)}/{len(shown)} checks pass"
                       + (f"; {problem}" if problem else ""))
    out = {"score": sum(t["score"] for t in tests), "output": "\n".join(summary), "visibility": "visible",
           "stdout_visibility": config.get("stdout_visibility", "hidden") if config else "hidden", "tests": tests}
    if execution_time is not None:
        out["execution_time"] = round(execution_time)
    return out


# ---------------------------------------------------------------- the folder

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image
# (written by `descentlab lab autograder`). It installs Python 3.11+, torch
# (CPU build) and numpy, at the versions the autograder was written with
# (descentlab {version}), into $ROOT/venv; descentlab's grading modules come
# with this folder (descentlab/).
set -euo pipefail
ROOT="${{DESCENTLAB_AUTOGRADER_ROOT:-/autograder}}"
apt-get update
apt-get install -y python3 python3-venv python3-pip
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # Ubuntu before 24.04: Python 3.11 from the deadsnakes archive
    apt-get install -y software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --upgrade pip
"$ROOT/venv/bin/python" -m pip install {torch} --index-url https://download.pytorch.org/whl/cpu
"$ROOT/venv/bin/python" -m pip install {numpy}
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission (written by `descentlab lab autograder`):
# it grades $ROOT/submission and writes $ROOT/results/results.json. ROOT is
# /autograder, or $DESCENTLAB_AUTOGRADER_ROOT (a folder laid out the same way:
# source/ (this folder), submission/, results/). Python: setup.sh's venv, else python3.
set -u
ROOT="${DESCENTLAB_AUTOGRADER_ROOT:-/autograder}"
PYTHON="$ROOT/venv/bin/python"
[ -x "$PYTHON" ] || PYTHON=python3
export PYTHONPATH="$ROOT/source"
cd "$ROOT"
exec "$PYTHON" -P -m descentlab.labs.gradescope "$ROOT"
"""

README = """# descentlab autograder for Gradescope

Written by `descentlab lab autograder` (descentlab {version}).

1. Edit `config.json`: each exercise's points, the visibility of each check,
   the hidden checks (`lab check` does not run them). Remove an exercise to
   leave it out.
2. Zip the contents of this folder, not the folder:
   `cd THIS_FOLDER && zip -r ../autograder.zip .`
3. On Gradescope: a Programming Assignment, Configure Autograder, upload the
   zip (any Ubuntu base image). Students upload their exercise files
   (`adam.py`, ...), as filled in from `descentlab lab new`.

Try it first on a folder laid out as Gradescope lays it out:

    mkdir -p /tmp/ag/submission /tmp/ag/results && cp -r . /tmp/ag/source
    cp STUDENT/adam.py /tmp/ag/submission/
    DESCENTLAB_AUTOGRADER_ROOT=/tmp/ag ./run_autograder && cat /tmp/ag/results/results.json
"""


def _pin(name):
    """``name==version`` of the copy grading runs with here (torch's without its ``+cpu`` tag)."""
    return f"{name}=={importlib.metadata.version(name).split('+')[0]}"


def _copy_bundle(target):
    """Copy descentlab's grading modules, laid out as installed, under ``target/descentlab``."""
    import importlib

    for package, modules in BUNDLE.items():
        source = Path(importlib.import_module(package).__file__).parent
        folder = target.joinpath(*package.split("."))
        folder.mkdir(parents=True, exist_ok=True)
        names = [p.stem for p in source.glob("*.py")] if modules is None else modules
        for name in names:
            shutil.copy2(source / f"{name}.py", folder / f"{name}.py")


def build(directory):
    """Write the autograder folder ``directory`` (it must not exist); returns its path."""
    directory = Path(directory)
    if directory.exists():
        raise UserError(f"{directory} already exists: choose a new folder (nothing was overwritten)")
    version = importlib.metadata.version("descentlab")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        _copy_bundle(staging)
        write_text(staging / "config.json", json.dumps(default_config(hidden=True), indent=2) + "\n")
        write_text(staging / "setup.sh", SETUP.format(version=version, torch=_pin("torch"), numpy=_pin("numpy")))
        write_text(staging / "run_autograder", RUN)
        write_text(staging / "README.md", README.format(version=version))
        for script in ("setup.sh", "run_autograder"):
            (staging / script).chmod(0o755)
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


# ---------------------------------------------------------------- on Gradescope

def _submitted(submission, exercise):
    """The student's work on ``exercise``: the shallowest ``<name>.py`` in the submission (an
    uploaded folder counts), else the shallowest notebook with a code cell defining its class
    or function (``notebook_cells``); hidden folders (``.ipynb_checkpoints``) are passed over."""
    def shallowest_first(pattern):
        found = [p for p in submission.rglob(pattern)
                 if not any(part.startswith(".") for part in p.relative_to(submission).parts)]
        return sorted(found, key=lambda p: (len(p.parts), str(p)))

    files = shallowest_first(f"{exercise.name}.py")
    if files:
        return files[0]
    for notebook in shallowest_first("*.ipynb"):
        try:
            cells = notebook_cells.code_cells(notebook)
            if any(notebook_cells.defines(source, exercise.symbol) for _, source in cells):
                return notebook
        except UserError:
            continue   # not a notebook; another one may hold the exercise
    return None


def grade_submission(root):
    """Grade ``root/submission`` with ``root/source/config.json``; write and return
    ``root/results/results.json``'s content."""
    root = Path(root)
    began = time.perf_counter()
    config = load_config(root / "source" / "config.json")
    chosen = checks_to_run(config)
    present, reports = [], {}
    for name in config["exercises"]:
        path = _submitted(root / "submission", checks.exercise(name))
        if path is None:
            reports[name] = grader.report(checks.exercise(name), Path(f"{name}.py"), chosen[name],
                                          {"missing": True})
        else:
            present.append((name, path))
    graded = grader.grade(present, config.get("timeout_seconds", 10.0), chosen, refuse_roots=[root / "source"])
    reports.update({name: report for (name, _), report in zip(present, graded)})
    ordered = [reports[name] for name in config["exercises"]]
    content = results(ordered, config, execution_time=time.perf_counter() - began)
    atomic_write(root / "results" / "results.json", lambda f: f.write(json.dumps(content, indent=2).encode()))
    print(feedback.format_text(ordered))   # stdout: for the instructor
    return content


def main(argv):
    runs.skip_dynamo()   # this process compiles nothing
    try:
        grade_submission(argv[0] if argv else "/autograder")
    except (UserError, ValueError) as exc:
        print(f"descentlab autograder: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
