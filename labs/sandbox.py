"""Run a student's exercise files in this process, which the grader starts
and may kill: ``python -P -m descentlab.labs.sandbox JOBS OUT``.

JOBS is a JSON file written by the grader: the time limit per exercise, more
folders the student's code may not read, and one job per file, each with its
exercise's name, symbol (the class or function to take from the file), kind
and checks, and for a notebook's cell the imports to run before it. Nothing here, nor anything it imports, is a reference
implementation: before any student code runs, ``descentlab.labs.isolation``
makes the answers unreachable (see there), so the process never holds one.

For each job in turn: import the file under a private module name (its folder
is not put on ``sys.path``, so nothing there can replace a module of ours),
take the exercise's symbol from it, run every check
(``descentlab.labs.runs.run_checks``) and append one JSON line to OUT,
numbered by the job's position (after a ``{"started": i}`` line, so that the
grader knows whose code was running if the process ends). An error is
recorded with the student's own line, not our traceback; reaching for an
answer is recorded as ``refused``. Each exercise gets SECONDS (after
``warm_up``): when they run out, ``faulthandler`` prints where every thread
was (the student's endless loop among them) and ends the process, and the
grader goes on with the next exercise in a new process. Anything the
student's code prints goes to this process's stdout, which the grader ignores.
"""

import faulthandler
import importlib.machinery
import importlib.util
import json
import sys
from pathlib import Path

from . import isolation, runs


def load(name, path, preamble=None):
    """Import the file at ``path`` as a fresh module named after the exercise, after
    running ``preamble`` (a notebook cell's imports: ``notebook_cells.PREAMBLE``) in it."""
    name = f"descentlab_student_{name}"
    # the loader named: a file not ending in .py is still read as Python
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    if preamble:
        exec(compile(preamble, "<the exercise stub's imports>", "exec"), module.__dict__)
    spec.loader.exec_module(module)
    return module


def grade_one(job):
    path = Path(job["path"])
    isolation.watch(path)
    try:
        module = load(job["name"], path, job.get("preamble"))
    except (Exception, SystemExit) as exc:
        return {"import_error": runs.describe(exc, path)}
    impl = getattr(module, job["symbol"], None)
    if impl is None:
        return {"import_error": {
            "type": "NameError", "line": None, "code": None, "function": None,
            "message": f"{path.name} defines no {job['symbol']} (the exercise's stub does)"}}
    origin = isolation.reference_origin(impl)
    if origin:
        return {"refused": isolation.Refusal(f"defines {job['symbol']}, which {origin}").as_dict()}
    checks = [runs.Check.from_dict(check) for check in job["checks"]]
    return {"checks": runs.run_checks(job["kind"], impl, checks, path)}


def warm_up():
    """Run a stand-in of each kind, built on the kit like a student's: what the
    first optimizer and schedule of a process import must not eat the
    student's seconds."""
    from descentlab.optimizers import ClosedForm, LectureOptimizer

    class Descent(LectureOptimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def update(self, param, grad, state, group):
            param -= group["lr"] * grad

    class Constant(ClosedForm):
        def factor(self, epoch):
            return 1.0

    runs.run("optimizer", Descent, runs.Check("warm-up", steps=2))
    runs.run("schedule", Constant, runs.Check("warm-up", steps=2))
    runs.run("clipping", lambda params, max_norm: 0.0, runs.Check("warm-up", dict(max_norm=1.0)))


def main(argv):
    spec, out = json.loads(Path(argv[0]).read_text()), Path(argv[1])
    sys.dont_write_bytecode = True   # no __pycache__ left in the student's folder
    runs.skip_dynamo()
    isolation.install(spec["refuse_roots"])
    warm_up()
    with out.open("a") as f:
        for index, job in enumerate(spec["jobs"]):
            f.write(json.dumps({"started": index}) + "\n")
            f.flush()
            faulthandler.dump_traceback_later(spec["seconds"], exit=True)
            result = grade_one(job)
            faulthandler.cancel_dump_traceback_later()
            refused = isolation.refusal()
            if refused and "refused" not in result:
                result["refused"] = refused
            f.write(json.dumps({"index": index, "exercise": job["name"], **result}) + "\n")
            f.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
