"""A student's optimizer class compared beside ours: ``compare.run(optimizers=[..., Class])``
and ``descentlab compare --optimizer-file FILE:Class``; spawned workers import it from its
file, ``--resume`` finds it again, and a bad file is one line with exit 2 before any work."""

import importlib.util
import json
import shutil
import sys

import pytest

from descentlab import compare
from descentlab.cli import main
from descentlab.labs import handout
from descentlab.optimizers import registry
from lab_solutions import SOLUTIONS, fill

FAST = dict(dataset="digits", model="logreg", epochs=1, batch_size=64, seeds=(0,), precisions=())


def student_file(folder, exercise="adam", class_name=None):
    """The lab's stub of ``exercise`` with the solution filled in, as a student hands it in."""
    path = folder / f"{exercise}.py"
    text = fill(handout.stub_files()[f"{exercise}.py"], SOLUTIONS[exercise])
    if class_name:
        text = text.replace("class Adam(", f"class {class_name}(")
    path.write_text(text)
    return path


def import_class(path, name, monkeypatch):
    """``from adam import Adam`` as the notebook does it (the module in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return getattr(module, name)


@pytest.mark.slow
def test_a_students_adam_runs_beside_ours_in_worker_processes_and_resumes(tmp_path, monkeypatch):
    path = student_file(tmp_path)
    out = tmp_path / "cmp"
    res = compare.run(out, optimizers=["adam", import_class(path, "Adam", monkeypatch)], workers=2, **FAST)
    runs = {r["optimizer"]: r for r in res["runs"]}
    assert set(runs) == {"adam", "student-adam"}                  # the registry name is taken: student-adam
    assert res["optimizer_files"] == {"student-adam": f"{path.resolve()}:Adam"}
    assert runs["student-adam"]["config"]["optimizer_file"] == f"{path.resolve()}:Adam"
    assert runs["student-adam"]["hparams"] == {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8}   # its defaults
    # the lecture's Adam written from the formula trains like ours (float32: the same up to rounding)
    ours, theirs = runs["adam"]["history"]["train_loss"], runs["student-adam"]["history"]["train_loss"]
    assert theirs == pytest.approx(ours, rel=1e-4)
    saved = json.loads((out / "compare.json").read_text())
    assert saved["optimizer_files"] == res["optimizer_files"] and "student-adam" in saved["optimizers"]
    assert "student-adam (yours)" in (out / "report.md").read_text()
    # --resume in a fresh registry: compare.json alone must bring the class back
    registry.USER.clear()
    shutil.rmtree(out / "student-adam-seed0")
    assert main(["compare", "--resume", "--out", str(out), "--workers", "1", "--quiet"]) == 0
    again = json.loads((out / "results.json").read_text())
    resumed = next(r for r in again["runs"] if r["optimizer"] == "student-adam")
    assert resumed["history"]["train_loss"] == pytest.approx(theirs, rel=1e-6)


@pytest.mark.slow
def test_optimizer_file_on_the_command_line_with_its_own_lr(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    student_file(tmp_path, class_name="MyAdam")
    assert main(["compare", "--optimizers", "sgd", "--optimizer-file", "adam.py:MyAdam", "--lr", "myadam=0.01",
                 "--dataset", "digits", "--model", "logreg", "--epochs", "1", "--seeds", "0",
                 "--precisions", "none", "--workers", "1", "--out", "cmp", "--quiet"]) == 0
    res = json.loads((tmp_path / "cmp" / "results.json").read_text())
    runs = {r["optimizer"]: r for r in res["runs"]}
    assert set(runs) == {"sgd", "myadam"}                       # no clash: its class name, lower-cased
    assert runs["myadam"]["hparams"]["lr"] == 0.01
    assert "myadam (yours)" in capsys.readouterr().out


def test_a_class_defined_in_a_notebook_cell_says_what_to_do(tmp_path):
    namespace = {}
    exec(fill(handout.stub_files()["adam.py"], SOLUTIONS["adam"]), namespace)   # no file behind it
    with pytest.raises(ValueError, match=r"notebook cell.*save it in a \.py file.*from adam import Adam"):
        compare.run(tmp_path / "cmp", optimizers=["sgd", namespace["Adam"]], **FAST)
    assert not (tmp_path / "cmp").exists()


@pytest.mark.parametrize("write, reference, message", [
    (None, "missing.py:Adam", "does not exist"),
    ("def (:\n", "broken.py:Adam", "is not valid Python"),
    ("class Other:\n    pass\n", "other.py:Adam", "has no class Adam"),
    ("class Adam:\n    pass\n", "plain.py:Adam", "is not a torch.optim.Optimizer subclass"),
    ("x = 1\n", "notes.txt:Adam", "is not a Python file"),
    (None, "adam.py", "write FILE.py:Class"),
])
def test_a_bad_optimizer_file_is_one_line_and_exit_2_before_any_work(write, reference, message, tmp_path,
                                                                      capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if write is not None:
        (tmp_path / reference.partition(":")[0]).write_text(write)
    (tmp_path / "cmp").mkdir()
    (tmp_path / "cmp" / "keep.txt").write_text("earlier results")
    assert main(["compare", "--optimizer-file", reference, "--out", "cmp", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert [p.name for p in (tmp_path / "cmp").iterdir()] == ["keep.txt"]
