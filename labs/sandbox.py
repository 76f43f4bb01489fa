"""Run a student's exercise files in this process, which the grader starts
and may kill: ``python -P -m descentlab.labs.sandbox OUT SECONDS NAME=PATH ...``.

For each NAME=PATH in turn (the same exercise may come more than once): import the file under a private module name (its
folder is not put on ``sys.path``, so nothing there can replace a module of
ours), take the exercise's symbol from it, run every check
(``descentlab.labs.checks.run``) and append one JSON line to OUT, numbered by the pair's position (after a
``{"started": i}`` line, so that the grader knows whose code was running if
the process ends). An error is
recorded with the student's own line, not our traceback. Each exercise gets
SECONDS (after ``warm_up``): when they run out, ``faulthandler`` prints where every thread was
(the student's endless loop among them) and ends the process, and the grader
goes on with the next exercise in a new process. Anything the student's code
prints goes to this process's stdout, which the grader ignores.
"""

import faulthandler
import importlib.util
import json
import sys
import traceback
from pathlib import Path

from . import checks


def _where(exc, path):
    """The student's line that raised ``exc``: its number, code and function."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == path:
        return {"line": exc.lineno, "code": (exc.text or "").strip(), "function": None}
    if not frames:
        return {"line": None, "code": None, "function": None}
    frame = frames[-1]
    return {"line": frame.lineno, "code": frame.line, "function": frame.name}


def describe(exc, path):
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return {"type": type(exc).__name__, "message": message, **_where(exc, path)}


def load(name, path):
    """Import the file at ``path`` as a fresh module named after the exercise."""
    spec = importlib.util.spec_from_file_location(f"descentlab_student_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade_one(name, path):
    exercise = checks.exercise(name)
    try:
        module = load(name, path)
    except (Exception, SystemExit) as exc:
        return {"exercise": name, "import_error": describe(exc, path)}
    impl = getattr(module, exercise.symbol, None)
    if impl is None:
        return {"exercise": name, "import_error": {
            "type": "NameError", "line": None, "code": None, "function": None,
            "message": f"{path.name} defines no {exercise.symbol} (the exercise's stub does)"}}
    results = []
    for check in exercise.checks:
        try:
            results.append({"output": checks.run(exercise, impl, check)})
        except (Exception, SystemExit) as exc:
            results.append({"error": describe(exc, path)})
    return {"exercise": name, "checks": results}


def warm_up():
    """Run our own implementation of every exercise once: the first optimizer a
    process builds imports much of torch (torch._dynamo), which must not eat the
    student's seconds."""
    for exercise in checks.EXERCISES.values():
        checks.run(exercise, exercise.reference, exercise.checks[0])


def main(argv):
    out, seconds, pairs = Path(argv[0]), float(argv[1]), argv[2:]
    warm_up()
    with out.open("a") as f:
        for index, pair in enumerate(pairs):
            name, _, path = pair.partition("=")
            f.write(json.dumps({"started": index}) + "\n")
            f.flush()
            faulthandler.dump_traceback_later(seconds, exit=True)
            result = grade_one(name, Path(path).resolve())
            faulthandler.cancel_dump_traceback_later()
            f.write(json.dumps({"index": index, **result}) + "\n")
            f.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
