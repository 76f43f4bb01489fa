"""What the student reads: the hints, the lines per check, the Gradescope report.

``hints(report)`` turns an ``ExerciseReport`` (``descentlab.labs.grader``) into
what to fix; ``format_text`` gives the terminal's lines (one per check, with
its relative error, then the hints); ``gradescope`` a Gradescope-style
``results.json``, one test of one point per check.
"""

import math

from . import checks


def hints(report):
    """What to fix, one line per distinct problem: a mistake named with its
    lecture section, or the student's line that raised."""
    if report.import_error:
        return [f"{_located(report.import_error, report.path)}: fix this before anything can be checked"]
    if report.stopped and "seconds" in report.stopped:
        return [f"still running after {report.stopped['seconds']:g} s "
                f"{_at(report.stopped, report.path)}: is there a loop that never ends?"]
    if report.stopped:
        return [f"your code ended the grader's process (exit status {report.stopped['status']}; "
                f"{report.stopped['last_words'] or 'nothing printed'}): do not call exit() in an exercise"]
    found = []
    for check in report.checks:
        if check.mistake:
            text = _named(check.mistake)
        elif check.error:
            text = _error_hint(check.error, report.path)
        else:
            continue
        if text not in found:
            found.append(text)
    return found


def _named(mistake):
    return f"{mistake.hint} (see {mistake.lecture})"


def _at(where, path):
    if where.get("line") is None:
        return ""
    function = f" in {where['function']}()" if where.get("function") not in (None, "<module>") else ""
    return f"at {path.name} line {where['line']}{function}: {where.get('code') or ''}".rstrip(": ")


def _located(error, path):
    place = _at(error, path)
    return f"{error['type']}: {error['message']}" + (f" ({place})" if place else "")


def _error_hint(error, path):
    if error["type"] == "NotImplementedError" and "TODO" in error["message"]:
        return f"not written yet: fill in the TODO body of {error['function']}() ({path.name} line {error['line']})"
    return f"your code raised {_located(error, path)}"


def format_text(reports):
    lines = []
    for report in reports:
        exercise = checks.exercise(report.exercise)
        lines.append(f"{report.exercise} ({report.path.name}): {exercise.title}")
        for check in report.checks:
            error = check.error["type"] if check.error else f"rel. error {check.relative_error:.1e}"
            lines.append(f"  {'PASS' if check.passed else 'FAIL'}  {check.name:<58} {error}")
        for hint in hints(report):
            lines.append(f"  hint: {hint}")
        passed = sum(c.passed for c in report.checks)
        lines.append(f"  {passed}/{len(exercise.checks)} checks passed"
                     f" (tolerance {exercise.tolerance:g})")
    if len(reports) > 1:
        done = sum(r.passed for r in reports)
        lines.append(f"{done}/{len(reports)} exercises pass")
    return "\n".join(lines)


def gradescope(reports):
    """A Gradescope-style ``results.json``: one test per check, one point each."""
    tests = []
    for report in reports:
        exercise = checks.exercise(report.exercise)
        problems = hints(report)
        by_name = {c.name: c for c in report.checks}
        for check in exercise.checks:
            result = by_name.get(check.name)
            passed = bool(result and result.passed)
            if result is None:
                output = problems[0]
            elif result.mistake:
                output = _named(result.mistake)
            elif result.error:
                output = _error_hint(result.error, report.path)
            else:
                output = ""
            tests.append({
                "name": f"{report.exercise}: {check.name}",
                "score": 1.0 if passed else 0.0,
                "max_score": 1.0,
                "status": "passed" if passed else "failed",
                "output": output,
                "exercise": report.exercise,
                "relative_error": None if result is None or result.relative_error is None
                else result.relative_error if math.isfinite(result.relative_error) else None,
                "mistake": result.mistake.key if result and result.mistake else None,
            })
    return {"score": sum(t["score"] for t in tests), "max_score": float(len(tests)), "tests": tests}
