"""One import name, ``descentlab``: a student's same-named files change nothing.

A course folder is full of ``models.py``, ``train.py``, ``optimizers.py``. Run
from such a folder (``python -m`` puts it first on ``sys.path``), descentlab
must still import its own modules, and the installed distribution must own no
top-level name but ``descentlab``.
"""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDENT_FILES = ("models", "train", "optimizers", "export", "infer", "labs")


def student_folder(tmp_path):
    """A folder of a student's files that break loudly when imported."""
    for name in STUDENT_FILES:
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('the student\\'s {name}.py was imported')\n")
    return tmp_path


def run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_imports_come_from_descentlab_not_the_working_directory(tmp_path):
    folder = student_folder(tmp_path)
    code = ("import descentlab.optimizers, descentlab.models, descentlab.train.run, descentlab.export, "
            "descentlab.infer, descentlab.labs, descentlab.compare\n"
            "from descentlab import optimizers, models\n"
            "print(optimizers.__file__); print(models.__file__); print(len(optimizers.available()))")
    result = run([sys.executable, "-c", code], folder)
    assert result.returncode == 0, result.stderr
    optimizers_file, models_file, count = result.stdout.split()
    assert Path(optimizers_file).parent == ROOT / "optimizers"
    assert Path(models_file).parent == ROOT / "models"
    assert int(count) == 17


@pytest.mark.slow
def test_compare_runs_from_a_folder_of_student_files(tmp_path):
    folder = student_folder(tmp_path)
    result = run([sys.executable, "-m", "descentlab", "compare", "--model", "logreg", "--optimizers", "adam",
                  "--epochs", "1", "--seeds", "0", "--precisions", "fp32,fp16,int8", "--out", "out", "--quiet"], folder)
    assert result.returncode == 0, result.stderr
    results = json.loads((folder / "out" / "results.json").read_text())
    assert [r["optimizer"] for r in results["runs"]] == ["adam"]
    assert set(results["runs"][0]["openvino"]) >= {"fp32", "fp16", "int8"}


@pytest.mark.slow
def test_the_command_line_takes_a_model_factory_from_the_working_directory(tmp_path):
    """``--model package.module:factory`` with the console script, which (unlike
    ``python -m``) does not put the working directory on sys.path."""
    folder = student_folder(tmp_path)
    (folder / "mynets.py").write_text(
        "import torch\n"
        "def wide(input_shape, num_classes, seed, width=24):\n"
        "    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, width), torch.nn.Tanh(),\n"
        "                               torch.nn.Linear(width, num_classes))\n")
    script = Path(sys.executable).with_name("descentlab")
    result = run([str(script), "train", "--dataset", "digits", "--model", "mynets:wide", "--model-option",
                  "width=12", "--optimizer", "sgd", "--epochs", "1", "--out", "run", "--quiet"], folder)
    assert result.returncode == 0, result.stderr
    import torch

    state = torch.load(folder / "run" / "checkpoint.pt", weights_only=True)["model_state"]
    assert tuple(state["1.weight"].shape) == (12, 64)

    missing = run([str(script), "train", "--dataset", "digits", "--model", "nowhere:net", "--optimizer", "sgd",
                   "--out", "run2"], folder)
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "cannot import 'nowhere'" in missing.stderr


@pytest.mark.slow
def test_the_wheel_installs_exactly_one_top_level_name(tmp_path):
    result = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                  "-w", str(tmp_path), str(ROOT)], tmp_path)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("descentlab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"descentlab"}
    # every mapped folder is inside it
    for package in ("optimizers", "models", "train", "export", "infer", "labs", "compare", "cli"):
        assert f"descentlab/{package}/__init__.py" in names
    assert "descentlab/optimizers/adam.py" in names and "descentlab/cli/commands/compare.py" in names


def test_the_installed_distribution_maps_only_descentlab():
    from importlib.metadata import packages_distributions

    owned = sorted(name for name, dists in packages_distributions().items() if "descentlab" in dists)
    assert owned == ["descentlab"]
