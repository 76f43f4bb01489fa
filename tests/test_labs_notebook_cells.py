"""A notebook handed in instead of the exercise files: ``lab check --path NB.ipynb`` and
the grader run the code cell that defines the exercise, and every line they print names
the notebook, the cell (counted as the notebook shows them, from 1) and the cell's line.

The notebooks are those ``lab new`` hands out, their exercise cells filled as a student
would (tests/lab_solutions.py); where each cell is and what line a TODO is on is read from
the notebook here, not from the grader.
"""

import json

import nbformat
import pytest

from descentlab.errors import UserError
from descentlab.labs import grader, handout, notebook_cells
from lab_solutions import SOLUTIONS, fill, with_mistake

TODO = 'raise NotImplementedError("TODO:'


def handed_out(tmp_path, name):
    handout.new_lab(tmp_path / "lab")
    return tmp_path / "lab" / "notebooks" / name


def cell_of(nb, symbol):
    """(the cell's number from 1, the cell) of the one defining ``class symbol``."""
    return next((n, c) for n, c in enumerate(nb.cells, 1) if c.cell_type == "code" and f"class {symbol}(" in c.source)


def write(nb, path):
    nbformat.write(nb, str(path))
    return path


@pytest.mark.slow
def test_cells_are_graded_like_files_and_every_line_names_the_cell(tmp_path):
    shipped = handed_out(tmp_path, "02_momentum_and_nag.ipynb")
    nb = nbformat.read(shipped, as_version=4)
    momentum, nesterov = cell_of(nb, "Momentum"), cell_of(nb, "Nesterov")
    momentum[1].source = "%matplotlib inline\n" + fill(momentum[1].source, SOLUTIONS["momentum"])
    nesterov[1].source = fill(nesterov[1].source, with_mistake("nesterov", "update", "param -= group", "param += group"))
    solved = write(nb, tmp_path / "solved.ipynb")

    cheat = nbformat.read(shipped, as_version=4)
    cell_of(cheat, "Momentum")[1].source = "from descentlab.optimizers import Momentum as M\n\nclass Momentum(M):\n    pass\n"
    cheat = write(cheat, tmp_path / "cheat.ipynb")

    untouched = nbformat.read(shipped, as_version=4)
    number, cell = cell_of(untouched, "Momentum")
    todo_line = next(i for i, line in enumerate(cell.source.splitlines(), 1) if line.strip().startswith(TODO))

    reports = grader.grade([("momentum", solved), ("nesterov", solved), ("momentum", shipped),
                            ("momentum", cheat), ("adam", solved)])
    passed, wrong, todo, refused, absent = reports

    assert passed.passed and passed.label == f"solved.ipynb, cell {momentum[0]}"   # the magic line is no Python
    assert passed.text.startswith(f"momentum (solved.ipynb, cell {momentum[0]}): ")

    assert not wrong.passed and wrong.label == f"solved.ipynb, cell {nesterov[0]}"
    assert all("every step is -1 x ours: the opposite sign" in wrong.text for _ in wrong.checks)

    assert not todo.checks[0].passed
    assert (f"fill in the TODO body of init_state() (02_momentum_and_nag.ipynb, cell {number} line {todo_line})"
            in todo.text)

    assert refused.refused and (f"cheat.ipynb, cell {momentum[0]} line 1 imports descentlab.optimizers.Momentum: "
                                "the exercise is to write Momentum yourself") in refused.text

    assert absent.import_error and "solved.ipynb defines no Adam" in absent.text
    assert grader.exit_code([absent]) == 2 and grader.exit_code([passed]) == 0


def test_the_last_cell_defining_the_exercise_is_taken_and_its_lines_stay_in_place(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("class Adam(  is prose here"),
        nbformat.v4.new_code_cell("class Adam:\n    first = True\n"),
        nbformat.v4.new_code_cell("import torch\n!pip install nothing\n\nclass Adam:   # the second try\n    pass\n"),
        nbformat.v4.new_code_cell("class AdamW:\n    pass\n"),
    ])
    path = write(nb, tmp_path / "work.ipynb")
    cell = notebook_cells.extract(path, "Adam", tmp_path)
    assert cell.label == "work.ipynb, cell 3"
    assert cell.file.read_text().splitlines() == ["import torch", "", "", "class Adam:   # the second try", "    pass"]
    assert notebook_cells.extract(path, "Adagrad", tmp_path) is None


@pytest.mark.parametrize("text, message", [
    ('{"cells": [', "is not a valid notebook (Expecting value at line 1)"),
    ('{"nbformat": 4}', "is not a valid notebook (no list of cells with sources)"),
    (json.dumps({"cells": [{"cell_type": "code", "source": 3}]}), "is not a valid notebook (a cell's source is not text)"),
])
def test_a_file_that_is_not_a_notebook_is_one_line(tmp_path, text, message):
    path = tmp_path / "lab.ipynb"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        notebook_cells.extract(path, "Adam", tmp_path)
    assert str(error.value) == f"lab.ipynb {message}"
