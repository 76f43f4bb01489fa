"""``descentlab lab new DIR``: what it writes, the student README in step with it, and a
broken notebook refused in one line before anything is written."""

import importlib.resources
import json
import re

import pytest

from descentlab.cli import main
from descentlab.labs import checks, handout


def test_lab_new_writes_every_stub_the_readme_and_the_notebooks(tmp_path, capsys):
    assert main(["lab", "new", str(tmp_path / "lab")]) == 0
    written = sorted(p.relative_to(tmp_path / "lab").as_posix() for p in (tmp_path / "lab").rglob("*") if p.is_file())
    assert written == sorted([f"{name}.py" for name in checks.EXERCISES] + ["README.md"]
                             + list(handout.notebook_files()))
    assert "start with" in capsys.readouterr().out


def test_the_student_readme_has_the_install_line_and_names_every_file_in_the_suggested_order():
    readme = handout.stub_files()["README.md"]
    assert "pip install -e '.[labs]'" in readme
    notebooks = [name.removeprefix("notebooks/").removesuffix(".ipynb") for name in handout.notebook_files()]
    for name in checks.EXERCISES:
        assert f"`{name}.py`" in readme, name
    table = [line for line in readme.splitlines() if line.startswith("| ") and "`" in line]
    # the table's notebooks, in the order its rows give them, are the notebooks in their order
    order = list(dict.fromkeys(re.findall(r"`(\d\d_\w+)`", "\n".join(table))))
    assert order == notebooks
    # each exercise's row names the notebook whose cells hold it
    for name, exercise in checks.EXERCISES.items():
        row = next(line for line in table if f"`{name}.py`" in line)
        notebook = re.search(r"`(\d\d_\w+)`", row)[1]
        text = handout.notebook_files()[f"notebooks/{notebook}.ipynb"]
        assert f"class {exercise.symbol}(" in text or f"def {exercise.symbol}(" in text, (name, notebook)


@pytest.mark.parametrize("text, message", [
    ('{"cells": [', "is not a valid notebook (Expecting"),
    ('["not", "a", "notebook"]', "is not a valid notebook"),
    ('{"metadata": {}}', "no list of cells"),
])
def test_a_broken_notebook_is_refused_in_one_line_before_anything_is_written(text, message, tmp_path, capsys,
                                                                               monkeypatch):
    # the package's notebooks folder, with one of them broken (an instructor's bad edit)
    package = tmp_path / "package"
    (package / "notebooks").mkdir(parents=True)
    for name, notebook in handout.notebook_files().items():
        (package / name).write_text(notebook)
    broken = sorted(handout.notebook_files())[2]
    (package / broken).write_text(text)
    real = importlib.resources.files
    monkeypatch.setattr(importlib.resources, "files",
                        lambda anchor: package if anchor == "descentlab.labs" else real(anchor))
    (tmp_path / "lab").mkdir()
    assert main(["lab", "new", str(tmp_path / "lab")]) == 2
    err = capsys.readouterr().err
    assert broken in err and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list((tmp_path / "lab").iterdir()) == []


def test_every_shipped_notebook_is_a_notebook():
    for name, text in handout.notebook_files().items():
        assert isinstance(json.loads(text)["cells"], list), name
