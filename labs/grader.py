"""Grade a student's exercise files against our solutions, and say what is wrong.

``grade([(name, path), ...])`` takes exercise files and notebooks (the cell
that defines the exercise: ``notebook_cells``), first reads each for an import of an
answer (``isolation.static_refusal``), then runs the others in a separate
process with a time limit per exercise (``descentlab.labs.sandbox``, where
the answers are out of reach), runs our implementation and every known
mistake (``descentlab.labs.mistakes``) here on the same checks, and returns
one ``ExerciseReport`` per exercise. A check passes when the relative error
``max|student - ours| / max|ours|`` is at most its tolerance
(``checks.tolerance``); when it fails, the report says where the numbers
first part and the pattern they fit (``descentlab.labs.diagnosis``), and a
known mistake whose numbers the student's match on every failed check names
them (a match: the same NaNs, a relative difference within the tolerance).

``exit_code`` is 0 when everything passed, 1 when a check failed or the
code reached for an answer, 2 when a file could not be imported (bad input).
``check_class(exercise, impl)`` runs the same checks on a class or function
defined in a notebook, in this process. What the student reads is written by
``descentlab.labs.feedback``.
"""

import dataclasses
import functools
import inspect
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import checks, diagnosis, isolation, notebook_cells, runs

# The sandbox imports torch before the student's clock starts; allow for that
# on a loaded machine before killing it from here.
STARTUP_SECONDS = 120


@dataclasses.dataclass
class CheckResult:
    name: str
    passed: bool
    relative_error: float = None
    tolerance: float = None
    error: dict = None        # what the student's code raised, with its line
    mistake: object = None    # the matching ``mistakes.Mistake``
    diagnosis: object = None  # ``diagnosis.Diagnosis`` of a failed check with numbers
    hidden: bool = False


@dataclasses.dataclass
class ExerciseReport:
    exercise: str
    path: Path                  # the student's file (a notebook cell's, for ``check_class``)
    checks: list = dataclasses.field(default_factory=list)
    import_error: dict = None   # the file does not import, or lacks the symbol (bad input)
    stopped: dict = None        # the process ended early: the time limit ran out, or the code ended it
    refused: dict = None        # the code reached for an answer (``isolation.Refusal``)
    missing: bool = False       # no such file in a Gradescope submission
    label: str = None           # how the student's code is named in the text: "adam.py"
    planned: tuple = ()         # the checks it was to pass (``runs.Check``)

    def __post_init__(self):
        self.label = self.label or self.path.name

    @property
    def passed(self):
        return (self.import_error is None and self.stopped is None and self.refused is None
                and not self.missing and bool(self.checks) and all(c.passed for c in self.checks))

    @property
    def text(self):
        """What ``lab check`` prints about this exercise."""
        from . import feedback

        return feedback.format_text([self])


def relative_error(output, expected):
    output, expected = np.asarray(output, dtype=float), np.asarray(expected, dtype=float)
    if output.shape != expected.shape or not np.all(np.isfinite(output)):
        return float("inf")
    return float(np.max(np.abs(output - expected), initial=0.0) / max(np.max(np.abs(expected)), 1e-300))


def same(output, other, tolerance):
    """True when ``output`` has ``other``'s NaNs and infinities and agrees elsewhere."""
    output, other = np.asarray(output, dtype=float), np.asarray(other, dtype=float)
    if output.shape != other.shape:
        return False
    finite = np.isfinite(other)
    if not np.array_equal(np.isfinite(output), finite) or not np.array_equal(
            output[~finite], other[~finite], equal_nan=True):
        return False
    return not finite.any() or relative_error(output[finite], other[finite]) <= tolerance


class _Ours:
    """Our numbers on each check, computed once: the reference, its tolerance, the mistakes'."""

    def __init__(self, exercise):
        self.exercise, self.cache = exercise, {}

    def _run(self, key, impl, check, fresh=False):
        if (key, check.name) not in self.cache:
            self.cache[key, check.name] = runs.run(self.exercise.kind, impl, check, fresh=fresh)
        return self.cache[key, check.name]

    def reference(self, check):
        return self._run("reference", self.exercise.reference, check)

    def tolerance(self, check):
        return checks.tolerance(self.exercise, self.reference(check))

    def mistake(self, mistake, check):
        return self._run(mistake.key, mistake.impl, check).values

    def fresh(self, check):
        """The reference rebuilt before every step (an optimizer's run of several steps only)."""
        if self.exercise.kind != "optimizer" or check.steps < 2 or check.fixed:
            return None
        return self._run("fresh", self.exercise.reference, check, fresh=True).values


def _matches(ours, mistake, run_checks, outputs, errors):
    """Per check: does the student's output (or exception) match ``mistake``'s?"""
    found = []
    for check, output, error in zip(run_checks, outputs, errors):
        if error is not None:
            found.append(mistake.exception == error["type"])
        else:
            found.append(mistake.impl is not None and same(
                output, ours.mistake(mistake, check), ours.tolerance(check)))
    return found


def report(exercise, path, run_checks, result, label=None):
    """The ``ExerciseReport`` of one sandbox (or in-process) ``result`` on ``run_checks``."""
    report = ExerciseReport(exercise.name, path, label=label, planned=tuple(run_checks))
    if "missing" in result:
        report.missing = True
        return report
    if "stopped" in result:
        report.stopped = result["stopped"]
        return report
    if "refused" in result:
        report.refused = result["refused"]
        return report
    if "import_error" in result:
        report.import_error = result["import_error"]
        return report
    ours = _Ours(exercise)
    outputs = [r.get("output") for r in result["checks"]]
    errors = [r.get("error") for r in result["checks"]]
    for check, output, error in zip(run_checks, outputs, errors):
        if error is not None:
            report.checks.append(CheckResult(check.name, False, error=error, hidden=check.hidden))
            continue
        reference, tolerance = ours.reference(check), ours.tolerance(check)
        err = relative_error(output, reference.values)
        checked = CheckResult(check.name, err <= tolerance, err, tolerance, hidden=check.hidden)
        if not checked.passed:
            checked.diagnosis = diagnosis.explain(exercise.kind, check, output, reference.values, tolerance,
                                                  fresh=ours.fresh(check))
        report.checks.append(checked)
    failed = [not c.passed for c in report.checks]
    if any(failed):
        # The first known mistake whose numbers (or exception) match the
        # student's on every failed check names them; one that explains only
        # some would point away from what is wrong in the others.
        for mistake in exercise.mistakes:
            hits = _matches(ours, mistake, run_checks, outputs, errors)
            if all(hit for hit, fail in zip(hits, failed) if fail):
                for check in report.checks:
                    check.mistake = None if check.passed else mistake
                break
    return report


_TIMEOUT_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)')


def _stuck_at(stderr, path):
    """Where faulthandler's dump says the student's code was (innermost frame of their file)."""
    for match in _TIMEOUT_FRAME.finditer(stderr):
        if Path(match["file"]) == path:
            line = int(match["line"])
            code = path.read_text(errors="replace").splitlines()[line - 1].strip()
            return {"line": line, "function": match["function"], "code": code}
    return {"line": None}


def _sandbox(jobs, seconds, refuse_roots):
    """Run the sandbox on ``jobs`` (``sandbox`` module docstring) until each has a
    result or has stopped the process (timed out, or ended it); the results in order."""
    results = []
    with tempfile.TemporaryDirectory(prefix="descentlab-grade-") as tmp:
        out, spec = Path(tmp) / "results.jsonl", Path(tmp) / "jobs.json"
        while len(results) < len(jobs):
            pending = jobs[len(results):]
            out.write_text("")
            spec.write_text(json.dumps({"seconds": seconds, "refuse_roots": [str(r) for r in refuse_roots],
                                        "jobs": pending}))
            command = [sys.executable, "-P", "-m", "descentlab.labs.sandbox", str(spec), str(out)]
            try:
                finished = subprocess.run(command, capture_output=True, text=True, cwd=tmp,
                                          stdin=subprocess.DEVNULL,
                                          timeout=STARTUP_SECONDS + seconds * len(pending))
                status, stderr = finished.returncode, finished.stderr
            except subprocess.TimeoutExpired as exc:
                status, stderr = "killed", exc.stderr.decode(errors="replace") if exc.stderr else ""
            lines = [json.loads(line) for line in out.read_text().splitlines()]
            results += [line for line in lines if "exercise" in line]
            if len(results) == len(jobs):
                break
            if len(lines) % 2 == 0:   # no student code was running: our failure
                raise RuntimeError(f"the grading sandbox failed:\n{stderr}")
            path = Path(jobs[len(results)]["path"])
            if "Timeout (" in stderr:
                stopped = {"seconds": seconds, **_stuck_at(stderr, path)}
            else:
                stopped = {"status": status, "last_words": (stderr.strip().splitlines() or [""])[-1]}
            results.append({"stopped": stopped})
    return results


def grade(pairs, seconds=10.0, run_checks=None, refuse_roots=()):
    """Grade ``pairs`` of (exercise name, file or notebook) (a dict's items will do); one
    ``ExerciseReport`` per pair, in the same order. ``run_checks``: exercise
    name -> the checks to run (default: the exercise's own, those of ``lab
    check``); ``refuse_roots``: more folders the student's code may not read."""
    with tempfile.TemporaryDirectory(prefix="descentlab-cells-") as cells:
        resolved = []
        for name, path in pairs:
            exercise = checks.exercise(name)
            path = Path(path).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"no such file: {path} (the exercise {name!r} is graded from it)")
            chosen = tuple((run_checks or {}).get(name, exercise.checks))
            cell = notebook_cells.extract(path, exercise.symbol, cells) if path.suffix == ".ipynb" else None
            resolved.append((exercise, cell.file if cell else path, chosen, cell.label if cell else None))
        reports, jobs = [None] * len(resolved), []
        for i, (exercise, path, chosen, label) in enumerate(resolved):
            if path.suffix == ".ipynb":   # no code cell defines the exercise
                reports[i] = report(exercise, path, chosen, {"import_error": _undefined(path.name, exercise)})
                continue
            refusal = isolation.static_refusal(path)
            if refusal:
                reports[i] = report(exercise, path, chosen, {"refused": refusal.as_dict()}, label)
            else:
                jobs.append((i, {"name": exercise.name, "path": str(path), "symbol": exercise.symbol,
                                 "kind": exercise.kind, "checks": [c.as_dict() for c in chosen],
                                 "preamble": notebook_cells.PREAMBLE if label else None}))
        results = _sandbox([job for _, job in jobs], seconds, refuse_roots) if jobs else []
        for (i, _), result in zip(jobs, results):
            exercise, path, chosen, label = resolved[i]
            reports[i] = report(exercise, path, chosen, result, label)
    return reports


def _undefined(notebook, exercise):
    """The import error of a notebook none of whose code cells defines the exercise."""
    return {"type": "NameError", "line": None, "code": None, "function": None,
            "message": f"{notebook} defines no {exercise.symbol} (no code cell holds the exercise's stub)"}


def grade_directory(directory, seconds=10.0):
    """Grade every exercise file found in ``directory`` (``lab new``'s layout)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a directory (make one with: descentlab lab new DIR)")
    paths = {name: directory / f"{name}.py" for name in checks.EXERCISES
             if (directory / f"{name}.py").is_file()}
    if not paths:
        raise FileNotFoundError(f"{directory} holds none of the exercise files "
                                f"({', '.join(f'{n}.py' for n in checks.EXERCISES)})")
    return grade(paths.items(), seconds)


def exit_code(reports):
    if any(r.import_error for r in reports):
        return 2
    return 0 if all(r.passed for r in reports) else 1


def _code_file(impl):
    """The file the class's (or function's) code was written in: its methods',
    else its module's; "<unknown>" for a notebook's class without methods."""
    while isinstance(impl, functools.partial):
        impl = impl.func
    functions = [impl] if inspect.isfunction(impl) else [
        f for f in vars(impl).values() if inspect.isfunction(f)] if isinstance(impl, type) else []
    if functions:
        return functions[0].__code__.co_filename
    return getattr(sys.modules.get(getattr(impl, "__module__", None)), "__file__", None) or "<unknown>"


def check_class(exercise, impl, *, show=True):
    """Run ``exercise``'s checks (those of ``lab check``) on ``impl``, the
    student's class or function, in this process (a notebook: no sandbox, no
    time limit); print what ``lab check`` prints unless ``show`` is False, and
    return the ``ExerciseReport``. ``ValueError`` for an unknown exercise."""
    exercise = checks.exercise(exercise)
    filename = _code_file(impl)
    label = "your cell" if "ipykernel" in filename or filename.startswith("<") else Path(filename).name
    origin = isolation.reference_origin(impl)
    if origin:
        result = {"refused": isolation.Refusal(f"defines {exercise.symbol}, which {origin}").as_dict()}
    else:
        result = {"checks": runs.run_checks(exercise.kind, impl, exercise.checks, filename)}
    graded = report(exercise, Path(filename), exercise.checks, result, label=label)
    if show:
        print(graded.text)
    return graded
