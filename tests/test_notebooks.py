"""The lab notebooks: committed clean, built as exercises, and each one runs headless
from top to bottom, both as shipped (every exercise still a TODO, no exercise files
beside it: it must say what is missing, not stop) and as ``descentlab lab new``
copies it, with every exercise solved (tests/lab_solutions.py) in its cells and files.

Each notebook is executed by nbclient on an IPython kernel (the ``.[labs]`` extra)
with ``DESCENTLAB_FAST=1``: the notebooks read it and use their fast setting
(fewer steps and epochs), so that CI checks every cell in seconds. Each run is
a test of its own, so that the suite's workers run them side by side.
"""

import os
import re
import time
from pathlib import Path

import nbclient   # the labs extra: pip install -e '.[test,labs]'
import nbformat
import pytest

from descentlab.labs import checks, handout
from lab_solutions import SOLUTIONS, fill

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "labs" / "notebooks").glob("*.ipynb"))
TODO = 'raise NotImplementedError("TODO:'


def test_there_is_a_notebook_per_lab_topic():
    assert len(NOTEBOOKS) == 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path):
    """Reviewable source: no outputs, no execution counts, no machine-specific metadata."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
        assert cell.metadata == {}


def exercises_in(nb):
    """{exercise name: the cell defining its class or function} of a notebook."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and TODO in cell.source:
            symbol = re.search(r"^(?:class|def) (\w+)", cell.source, re.M)[1]
            name = next(e.name for e in checks.EXERCISES.values() if e.symbol == symbol)
            found[name] = cell
    return found


def test_every_exercise_is_in_one_notebook_as_its_stub_with_a_check_and_questions():
    seen = []
    stubs = handout.stub_files()
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        sources = [c.source for c in nb.cells]
        for name, cell in exercises_in(nb).items():
            seen.append(name)
            stub = stubs[f"{name}.py"]
            assert stub[re.search(r"^(class|def) ", stub, re.M).start():].strip() in cell.source, \
                f"{path.name}: the {name} cell is not the stub of {name}.py"
            assert "YOUR CODE HERE" in cell.source
            check = f'notebook.check("{name}", {checks.exercise(name).symbol})'
            assert any(check in s for s in sources[sources.index(cell.source):]), f"{path.name}: no check of {name}"
        answers = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("**Your answer:**")]
        questions = [c for c in nb.cells if c.cell_type == "markdown" and "**Question" in c.source]
        assert len(answers) == len(questions) >= 2, path.name
    assert sorted(seen) == sorted(set(seen)) and set(seen) >= set(checks.EXERCISES) - {"adam"}, seen


def execute(path, folder, widgets):
    """Run the notebook at ``path`` in ``folder`` (its working directory), with the sliders
    or (``widgets=False``) their static figures; the text it printed. An error in any cell
    fails the test."""
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "DESCENTLAB_FAST": "1", "MPLBACKEND": "Agg", "DESCENTLAB_WIDGETS": "1" if widgets else "0",
           "OMP_NUM_THREADS": "1"}   # the suite's other worker computes on the other core
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", shutdown_kernel="immediate",
                                     resources={"metadata": {"path": str(folder)}})   # a graceful stop waits ~1 s
    began = time.perf_counter()
    client.execute(env=env)
    print(f"{path.name}: {time.perf_counter() - began:.1f} s")
    cells = [cell for cell in client.nb.cells if cell.cell_type == "code"]
    errors = [o for cell in cells for o in cell.outputs if o.output_type == "error"]
    assert errors == [], "\n".join(f"{e.ename}: {e.evalue}" for e in errors)
    return "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                     for cell in cells for o in cell.outputs)


def uses(path):
    """The exercises the notebook at ``path`` writes or loads."""
    shipped = nbformat.read(path, as_version=4)
    source = "".join(c.source for c in shipped.cells)
    found = list(exercises_in(shipped)) + [n for n in checks.EXERCISES if f'notebook.load("{n}")' in source]
    assert found
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_to_the_end_as_handed_out(path, tmp_path):
    """In a folder made by ``lab new``, as a student gets it: every exercise still a TODO, in
    the notebook's cells and in the files above it, and the static figures instead of the
    sliders; each check must say what is missing and the notebook must reach its end."""
    handout.new_lab(tmp_path)
    copy = tmp_path / "notebooks" / path.name
    assert copy.read_text() == path.read_text()
    printed = execute(copy, copy.parent, widgets=False)
    for name in uses(path):
        assert f"{name}: not passing yet" in printed, name
    assert "not written yet" in printed          # the grader's word for a TODO still there
    assert "does not pass its check yet" in printed


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_to_the_end_with_every_exercise_solved(path, tmp_path):
    """In a folder made by ``lab new``, with every stub file and every exercise cell filled
    from tests/lab_solutions.py, and the sliders: every check must pass."""
    handout.new_lab(tmp_path)
    for name in checks.EXERCISES:
        stub = tmp_path / f"{name}.py"
        stub.write_text(fill(stub.read_text(), SOLUTIONS[name]))
    copy = tmp_path / "notebooks" / path.name
    nb = nbformat.read(copy, as_version=4)
    for name, cell in exercises_in(nb).items():
        cell.source = fill(cell.source, SOLUTIONS[name])
    nbformat.write(nb, str(copy))
    printed = execute(copy, copy.parent, widgets=True)
    for name in uses(path):
        assert f"{name}: every check passes" in printed, name
    assert "not written yet" not in printed and "does not pass its check yet" not in printed
