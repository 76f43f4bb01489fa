"""What the student reads: the problem with an exercise, the lines per check, the hints.

``problem(report)`` is the one line of an exercise that could not be checked
(it was not submitted, it does not import, it reached for an answer, it did
not finish);
``check_lines(report, check)`` what went wrong in one failed check: the named
mistake with its lecture section, then where the numbers first part and the
pattern they fit (``descentlab.labs.diagnosis``), or the student's line that
raised; ``hints(report)`` the distinct named mistakes and errors; and
``format_text`` the terminal's text (one line per check, those lines under
each failed one, then the hints). The Gradescope ``results.json`` carries
the same text (``descentlab.labs.gradescope``).
"""

from . import checks


def problem(report):
    """The line saying why none of the exercise's checks could pass, or None."""
    symbol = checks.exercise(report.exercise).symbol
    if report.missing:
        return (f"no {report.label} in the submission: upload the {report.label} you filled in, "
                f"or the notebook whose cell defines {symbol}")
    if report.refused:
        refused = report.refused
        line = f" line {refused['line']}" if refused.get("line") else ""
        return f"{report.label}{line} {refused['did']}: the exercise is to write {symbol} yourself"
    if report.import_error:
        return f"{_located(report.import_error, report.label)}: fix this before anything can be checked"
    if report.stopped and "seconds" in report.stopped:
        return (f"still running after {report.stopped['seconds']:g} s "
                f"{_at(report.stopped, report.label)}: is there a loop that never ends?")
    if report.stopped:
        return (f"your code ended the grader's process (exit status {report.stopped['status']}; "
                f"{report.stopped['last_words'] or 'nothing printed'}): do not call exit() in an exercise")
    return None


def hints(report):
    """What to fix, one line per distinct problem: the exercise's ``problem``, or each
    named mistake with its lecture section and each line of the student's that raised."""
    line = problem(report)
    if line:
        return [line]
    found = []
    for check in report.checks:
        if check.mistake:
            text = _named(check.mistake)
        elif check.error:
            text = _error_hint(check.error, report.label)
        else:
            continue
        if text not in found:
            found.append(text)
    return found


def check_lines(report, check):
    """What went wrong in one failed check (a ``grader.CheckResult``): the named
    mistake, then the diagnosis; or the error."""
    if check.error:
        return [_error_hint(check.error, report.label)]
    lines = [_named(check.mistake)] if check.mistake else []
    return lines + (check.diagnosis.lines() if check.diagnosis else [])


def _named(mistake):
    return f"{mistake.hint} (see {mistake.lecture})"


def _at(where, label):
    if where.get("line") is None:
        return ""
    function = f" in {where['function']}()" if where.get("function") not in (None, "<module>") else ""
    return f"at {label} line {where['line']}{function}: {where.get('code') or ''}".rstrip(": ")


def _located(error, label):
    place = _at(error, label)
    return f"{error['type']}: {error['message']}" + (f" ({place})" if place else "")


def _error_hint(error, label):
    if error["type"] == "NotImplementedError" and "TODO" in error["message"]:
        return f"not written yet: fill in the TODO body of {error['function']}() ({label} line {error['line']})"
    return f"your code raised {_located(error, label)}"


def _outcome(check, exercise):
    if check.error:
        return check.error["type"]
    text = f"rel. error {check.relative_error:.1e}"
    if check.tolerance and check.tolerance > exercise.tolerance:
        text += f" (tolerance {check.tolerance:.1e}: float64 rounding of w)"
    return text


def format_text(reports):
    lines = []
    for report in reports:
        exercise = checks.exercise(report.exercise)
        lines.append(f"{report.exercise} ({report.label}): {exercise.title}")
        for check in report.checks:
            lines.append(f"  {'PASS' if check.passed else 'FAIL'}  {check.name:<58} {_outcome(check, exercise)}")
            if not check.passed and not check.error:
                lines += [f"        {text}" for text in check.diagnosis.lines()] if check.diagnosis else []
        for hint in hints(report):
            lines.append(f"  {'refused' if report.refused else 'hint'}: {hint}")
        passed = sum(c.passed for c in report.checks)
        lines.append(f"  {passed}/{len(report.planned)} checks passed (tolerance {exercise.tolerance:g})")
    if len(reports) > 1:
        done = sum(r.passed for r in reports)
        lines.append(f"{done}/{len(reports)} exercises pass")
    return "\n".join(lines)
