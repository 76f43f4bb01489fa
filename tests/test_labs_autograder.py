"""``descentlab lab autograder``: the folder Gradescope runs, run as Gradescope runs it.

The autograder is built once; each test lays out a folder exactly as
Gradescope does (``source/`` the unzipped folder, ``submission/`` the
student's files, ``results/``, ``run_autograder`` copied beside them) and
runs ``run_autograder`` with ``DESCENTLAB_AUTOGRADER_ROOT`` pointing there,
then reads ``results/results.json``.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from descentlab.cli import main
from descentlab.errors import UserError
from descentlab.labs import checks, gradescope, handout
from lab_solutions import SOLUTIONS, fill, with_mistake

STUBS = handout.stub_files()
# Gradescope's keys (gradescope-autograders.readthedocs.io, "Autograder Specifications")
TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
       "visibility", "stdout_visibility", "extra_data", "tests"}
TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
        "visibility", "extra_data"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("build") / "autograder"
    assert main(["lab", "autograder", "--out", str(folder)]) == 0
    return folder


def environment(root):
    """run_autograder's environment: this venv's python3 first on PATH, the root moved."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "PATH": path, "DESCENTLAB_AUTOGRADER_ROOT": str(root)}


def gradescope_run(tmp_path, built, files, edit=None):
    """Lay out ``tmp_path/autograder`` as Gradescope does, run run_autograder there:
    (exit status, stderr, results.json or None)."""
    root = tmp_path / "autograder"
    shutil.copytree(built, root / "source")
    shutil.copy2(built / "run_autograder", root / "run_autograder")
    (root / "results").mkdir()
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    if edit:
        config = json.loads((root / "source" / "config.json").read_text())
        edit(config)
        (root / "source" / "config.json").write_text(json.dumps(config))
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=environment(root), capture_output=True,
                          text=True, timeout=600)
    results = root / "results" / "results.json"
    return done.returncode, done.stderr, json.loads(results.read_text()) if results.exists() else None


def solved(name):
    return fill(STUBS[f"{name}.py"], SOLUTIONS[name])


def test_the_folder_holds_what_gradescope_runs(built):
    assert {p.name for p in built.iterdir()} >= {"setup.sh", "run_autograder", "config.json", "descentlab",
                                                   "README.md"}
    assert os.access(built / "run_autograder", os.X_OK) and os.access(built / "setup.sh", os.X_OK)
    setup = (built / "setup.sh").read_text()
    torch_pin = next(r for r in importlib.metadata.requires("descentlab") if r.startswith("torch=="))
    assert f"pip install {torch_pin} --index-url https://download.pytorch.org/whl/cpu" in setup
    assert f"pip install numpy=={importlib.metadata.version('numpy')}" in setup
    assert subprocess.run(["bash", "-n", str(built / "setup.sh")]).returncode == 0
    assert subprocess.run(["bash", "-n", str(built / "run_autograder")]).returncode == 0
    config = json.loads((built / "config.json").read_text())
    assert set(config["exercises"]) == set(checks.EXERCISES)
    for name, settings in config["exercises"].items():
        assert set(settings["checks"]) == {c.name for c in checks.EXERCISES[name].checks}
        assert [h["name"] for h in settings["hidden_checks"]] == [c.name for c in checks.EXERCISES[name].hidden]
        assert {h["visibility"] for h in settings["hidden_checks"]} == {"after_due_date"}


@pytest.mark.slow
def test_descentlab_comes_from_the_folder_not_from_the_network_nor_this_install(built):
    """Every descentlab module the grading imports is the folder's copy."""
    code = ("import json, sys, descentlab.labs.gradescope, descentlab.labs.sandbox; print(json.dumps("
            "[m.__file__ for n, m in sys.modules.items() if n.startswith('descentlab') "
            "and getattr(m, '__file__', 0)]))")
    env = {**environment(built), "PYTHONPATH": str(built)}
    files = json.loads(subprocess.run([sys.executable, "-P", "-c", code], env=env, capture_output=True, text=True,
                                      check=True, cwd=built).stdout)
    assert files and all(Path(f).resolve().is_relative_to(built.resolve()) for f in files), files


@pytest.mark.slow
def test_a_correct_submission_scores_every_point_with_the_instructors_weights(tmp_path, built):
    def edit(config):
        config["exercises"]["adam"]["points"] = 30
        config["exercises"]["momentum"]["checks"]["one step from a hand-picked point"] = "after_published"

    status, stderr, results = gradescope_run(tmp_path, built, {f"{n}.py": solved(n) for n in checks.EXERCISES}, edit)
    assert status == 0, stderr
    assert set(results) <= TOP and all(set(t) <= TEST for t in results["tests"])
    tests = results["tests"]
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in tests)
    assert results["score"] == pytest.approx(10 * (len(checks.EXERCISES) - 1) + 30)
    adam = [t for t in tests if t["tags"] == ["adam"]]
    assert sum(t["max_score"] for t in adam) == pytest.approx(30)
    assert len(adam) == len(checks.EXERCISES["adam"].checks) + len(checks.EXERCISES["adam"].hidden)
    hidden = [t for t in tests if t["extra_data"]["hidden"]]
    assert hidden and all(t["visibility"] == "after_due_date" and t["name"].split(": ", 1)[1].startswith("hidden")
                          for t in hidden)
    assert next(t for t in tests if t["name"] == "momentum: one step from a hand-picked point")["visibility"] == \
        "after_published"
    assert all(t["extra_data"]["relative_error"] <= t["extra_data"]["tolerance"] for t in tests)
    assert "adam (adam.py): 4/4 checks pass" in results["output"]


@pytest.mark.slow
def test_a_wrong_submission_is_graded_with_the_reason_of_every_failure(tmp_path, built):
    files = {
        "adam.py": fill(STUBS["adam.py"], with_mistake("adam", "update", "param -= group", "param += group")),
        "momentum.py": solved("momentum"),
        "adagrad.py": "import torch\n\n\nclass Adagrd:\n    pass\n",
        "rmsprop.py": "from descentlab.optimizers import RMSprop\n",
        "step_decay.py": "def factor(:\n",
    }
    status, stderr, results = gradescope_run(tmp_path, built, files)
    assert status == 0, stderr
    by_exercise = {}
    for test in results["tests"]:
        by_exercise.setdefault(test["tags"][0], []).append(test)
    assert results["score"] == pytest.approx(10)   # momentum's, nothing else
    assert all(t["status"] == "passed" for t in by_exercise["momentum"])
    for name, tests in by_exercise.items():
        assert len(tests) == len(checks.EXERCISES[name].checks) + len(checks.EXERCISES[name].hidden)
        if name != "momentum":
            assert all(t["status"] == "failed" and t["score"] == 0 and t["output"] for t in tests)
    adam = by_exercise["adam"]
    assert all("every step is -1 x ours: the opposite sign" in t["output"] for t in adam)
    assert all(t["output"].startswith("first differs at step 1, parameter 0") for t in adam)
    assert [t["visibility"] for t in adam] == ["visible"] * 4 + ["after_due_date"] * 3
    assert all("defines no Adagrad" in t["output"] for t in by_exercise["adagrad"])
    assert all("rmsprop.py line 1 imports descentlab.optimizers.RMSprop: the exercise is to write RMSprop yourself"
               == t["output"] for t in by_exercise["rmsprop"])
    assert all(t["output"].startswith("SyntaxError") and "step_decay.py line 1" in t["output"]
               for t in by_exercise["step_decay"])
    for name in ("nesterov", "diffgrad", "clip_grad_norm"):
        symbol = checks.exercise(name).symbol
        assert all(t["output"] == f"no {name}.py in the submission: upload the {name}.py you filled in, "
                                  f"or the notebook whose cell defines {symbol}" for t in by_exercise[name])
    # what every student sees at once names no hidden check
    assert "hidden" not in results["output"] and "adam (adam.py): 0/4 checks pass" in results["output"]


@pytest.mark.slow
def test_a_notebook_handed_in_is_graded_from_the_cells_that_define_the_exercises(tmp_path, built):
    """The student solved momentum and Nesterov in notebook 02's cells and handed in the
    notebook (with a broken one beside it), and adam.py as a file."""
    nb = nbformat.reads(handout.notebook_files()["notebooks/02_momentum_and_nag.ipynb"], as_version=4)
    numbers = {}
    for number, cell in enumerate(nb.cells, 1):
        for name, symbol in (("momentum", "Momentum"), ("nesterov", "Nesterov")):
            if cell.cell_type == "code" and f"class {symbol}(" in cell.source:
                cell.source, numbers[name] = fill(cell.source, SOLUTIONS[name]), number
    files = {"02_momentum_and_nag.ipynb": nbformat.writes(nb), "broken.ipynb": '{"cells": [', "adam.py": solved("adam")}
    status, stderr, results = gradescope_run(tmp_path, built, files)
    assert status == 0, stderr
    for name in ("momentum", "nesterov", "adam"):
        tests = [t for t in results["tests"] if t["tags"] == [name]]
        assert tests and all(t["status"] == "passed" for t in tests), name
    for name, number in numbers.items():
        assert f"{name} (02_momentum_and_nag.ipynb, cell {number}): 4/4 checks pass" in results["output"]
    assert all(t["output"].startswith("no adagrad.py in the submission")
               for t in results["tests"] if t["tags"] == ["adagrad"])


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["exercises"]["adam"]["checks"].update({"one step from a hand-picked point": "later"}),
     "adam.checks['one step from a hand-picked point'] must be visible or hidden or after_due_date"),
    (lambda c: c["exercises"].update({"adamw": {}}), "unknown exercise 'adamw'"),
    (lambda c: c["exercises"]["adam"].update({"points": -1}), "adam.points must be a number >= 0"),
    (lambda c: c["exercises"]["adam"]["hidden_checks"][0].update({"hparams": {"beta": 0.9}}),
     "adam.hidden_checks[0]: our Adam cannot run it"),
    (lambda c: c["exercises"]["adam"]["hidden_checks"][0].update({"steps": 0}),
     "adam.hidden_checks[0].steps must be an integer >= 1"),
    (lambda c: c["exercises"]["adam"]["checks"].update({"six steps": "visible"}), "adam.checks must be"),
])
def test_a_broken_config_is_one_line_naming_the_entry(tmp_path, edit, message):
    config = gradescope.default_config(hidden=True)
    edit(config)
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises((UserError, ValueError)) as raised:
        gradescope.load_config(tmp_path / "config.json")
    assert message in str(raised.value) and len(str(raised.value).splitlines()) == 1


def test_an_existing_folder_is_never_overwritten(tmp_path, capsys):
    folder = tmp_path / "autograder"
    folder.mkdir()
    (folder / "config.json").write_text("the instructor's edits")
    assert main(["lab", "autograder", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in folder.iterdir()] == ["config.json"]
    assert (folder / "config.json").read_text() == "the instructor's edits"
    assert not [p for p in tmp_path.iterdir() if p.name != "autograder"]   # no staging folder left
