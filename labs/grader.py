"""Grade a student's exercise files against our optimizers, and name the mistake.

``grade([(name, path), ...])`` runs the student's files in a separate process with a
time limit per exercise (``descentlab.labs.sandbox``), runs our
implementation and every known mistake (``descentlab.labs.mistakes``) here on
the same checks, and returns one ``ExerciseReport`` per exercise. A check
passes when the relative error ``max|student - ours| / max|ours|`` is below the
exercise's tolerance; when it fails, the mistake whose numbers the student's
match on the most failed checks names them (a match: the same NaNs, a
relative difference below the tolerance). ``exit_code`` is 0 when everything
passed, 1 when a check failed, 2 when a file could not be imported (bad
input). What the student reads is written by ``descentlab.labs.feedback``.
"""

import dataclasses
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import checks

# The sandbox imports torch before the student's clock starts; allow for that
# on a loaded machine before killing it from here.
STARTUP_SECONDS = 120


@dataclasses.dataclass
class CheckResult:
    name: str
    passed: bool
    relative_error: float = None
    error: dict = None        # what the student's code raised, with its line
    mistake: object = None    # the matching ``mistakes.Mistake``


@dataclasses.dataclass
class ExerciseReport:
    exercise: str
    path: Path
    checks: list = dataclasses.field(default_factory=list)
    import_error: dict = None   # the file does not import (bad input)
    stopped: dict = None        # the process ended early: the time limit ran out, or the code ended it

    @property
    def passed(self):
        return self.import_error is None and self.stopped is None and all(c.passed for c in self.checks)


def relative_error(output, expected):
    output, expected = np.asarray(output, dtype=float), np.asarray(expected, dtype=float)
    if output.shape != expected.shape or not np.all(np.isfinite(output)):
        return float("inf")
    return float(np.max(np.abs(output - expected)) / max(np.max(np.abs(expected)), 1e-300))


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


def _matches(exercise, mistake, outputs, errors):
    """Per check: does the student's output (or exception) match ``mistake``'s?"""
    found = []
    for check, output, error in zip(exercise.checks, outputs, errors):
        if error is not None:
            found.append(mistake.exception == error["type"])
        else:
            found.append(mistake.impl is not None and same(
                output, checks.run(exercise, mistake.impl, check), exercise.tolerance))
    return found


def _compare(exercise, path, result):
    report = ExerciseReport(exercise.name, path)
    if "import_error" in result:
        report.import_error = result["import_error"]
        return report
    outputs = [r.get("output") for r in result["checks"]]
    errors = [r.get("error") for r in result["checks"]]
    for check, output, error in zip(exercise.checks, outputs, errors):
        if error is not None:
            report.checks.append(CheckResult(check.name, False, error=error))
            continue
        err = relative_error(output, checks.run(exercise, exercise.reference, check))
        report.checks.append(CheckResult(check.name, err <= exercise.tolerance, err))
    if not report.passed:
        # The mistake that explains the most failed checks (then the most checks)
        # names every failed check it explains; the first listed wins a tie.
        failed = [not c.passed for c in report.checks]
        best, best_score = None, (0, 0)
        for mistake in exercise.mistakes:
            hits = _matches(exercise, mistake, outputs, errors)
            score = (sum(h and f for h, f in zip(hits, failed)), sum(hits))
            if score > best_score:
                best, best_score, matched = mistake, score, hits
        if best_score[0]:
            for check, hit in zip(report.checks, matched):
                check.mistake = best if hit and not check.passed else None
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


def _sandbox(pairs, seconds):
    """Run the sandbox on ``pairs`` [(name, path)] until each has a result or has
    stopped the process (timed out, or ended it); the results in the same order."""
    results = []
    with tempfile.TemporaryDirectory(prefix="descentlab-grade-") as tmp:
        out = Path(tmp) / "results.jsonl"
        while len(results) < len(pairs):
            pending = pairs[len(results):]
            out.write_text("")
            command = [sys.executable, "-P", "-m", "descentlab.labs.sandbox", str(out), str(seconds)]
            command += [f"{name}={path}" for name, path in pending]
            try:
                finished = subprocess.run(command, capture_output=True, text=True, cwd=tmp,
                                          stdin=subprocess.DEVNULL,
                                          timeout=STARTUP_SECONDS + seconds * len(pending))
                status, stderr = finished.returncode, finished.stderr
            except subprocess.TimeoutExpired as exc:
                status, stderr = "killed", exc.stderr.decode(errors="replace") if exc.stderr else ""
            lines = [json.loads(line) for line in out.read_text().splitlines()]
            results += [line for line in lines if "exercise" in line]
            if len(results) == len(pairs):
                break
            if len(lines) % 2 == 0:   # no student code was running: our failure
                raise RuntimeError(f"the grading sandbox failed:\n{stderr}")
            name, path = pairs[len(results)]
            if "Timeout (" in stderr:
                stopped = {"seconds": seconds, **_stuck_at(stderr, path)}
            else:
                stopped = {"status": status, "last_words": (stderr.strip().splitlines() or [""])[-1]}
            results.append({"exercise": name, "stopped": stopped})
    return results


def grade(pairs, seconds=10.0):
    """Grade ``pairs`` of (exercise name, file) (a dict's items will do); one
    ``ExerciseReport`` per pair, in the same order."""
    resolved = []
    for name, path in pairs:
        checks.exercise(name)
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path} (the exercise {name!r} is graded from it)")
        resolved.append((name, path))
    reports = []
    for (name, path), result in zip(resolved, _sandbox(resolved, seconds)):
        if "stopped" in result:
            reports.append(ExerciseReport(name, path, stopped=result["stopped"]))
        else:
            reports.append(_compare(checks.exercise(name), path, result))
    return reports


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
