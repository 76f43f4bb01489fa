"""The lab notebooks: committed clean, built as exercises, and each one runs headless
from top to bottom, both as shipped (every exercise still a TODO, no exercise files
beside it: it must say what is missing, not stop) and as ``descentlab lab new``
copies it, with every exercise solved (tests/lab_solutions.py) in its cells and files.

Each notebook is executed by nbclient on an IPython kernel (the ``.[labs]`` extra)
with ``DESCENTLAB_FAST=1``: the notebooks read it and use their fast setting
(fewer steps and epochs), so that CI checks every cell in seconds; the two runs
of a notebook go at once, one kernel per core.
"""

import asyncio
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


def client(path, folder, widgets):
    """A client that runs the notebook at ``path`` in ``folder`` (its working directory),
    with the sliders or (``widgets=False``) their static figures."""
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "DESCENTLAB_FAST": "1", "MPLBACKEND": "Agg", "DESCENTLAB_WIDGETS": "1" if widgets else "0",
           "OMP_NUM_THREADS": "1"}   # two kernels share the two cores
    return nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                   resources={"metadata": {"path": str(folder)}}), env


def execute(*clients):
    """Run the clients' notebooks at once (one kernel each: the two cores work in parallel);
    the text each printed. An error in any cell fails the test."""
    async def run_all():
        await asyncio.gather(*(c.async_execute(env=env) for c, env in clients))

    began = time.perf_counter()
    asyncio.run(run_all())
    print(f"{Path(clients[0][0].resources['metadata']['path']).name}: {time.perf_counter() - began:.1f} s")
    printed = []
    for c, _ in clients:
        cells = [cell for cell in c.nb.cells if cell.cell_type == "code"]
        errors = [o for cell in cells for o in cell.outputs if o.output_type == "error"]
        assert errors == [], "\n".join(f"{e.ename}: {e.evalue}" for e in errors)
        printed.append("\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                                 for cell in cells for o in cell.outputs))
    return printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_to_the_end_as_handed_out_and_with_every_exercise_solved(path, tmp_path):
    """Twice, in two folders made by ``lab new``. As a student gets it: every exercise still a
    TODO, in the notebook's cells and in the files above it, and the static figures instead of
    the sliders; each check must say what is missing and the notebook must reach its end. Then
    with every stub file and every exercise cell filled from tests/lab_solutions.py, and the
    sliders: every check must pass."""
    handed, solved = tmp_path / "handed-out", tmp_path / "solved"
    for folder in (handed, solved):
        handout.new_lab(folder)
    assert (handed / "notebooks" / path.name).read_text() == path.read_text()
    for name in checks.EXERCISES:
        stub = solved / f"{name}.py"
        stub.write_text(fill(stub.read_text(), SOLUTIONS[name]))
    copy = solved / "notebooks" / path.name
    nb = nbformat.read(copy, as_version=4)
    for name, cell in exercises_in(nb).items():
        cell.source = fill(cell.source, SOLUTIONS[name])
    nbformat.write(nb, str(copy))

    as_handed_out, as_solved = execute(client(handed / "notebooks" / path.name, handed / "notebooks", False),
                                       client(copy, copy.parent, True))

    shipped = nbformat.read(path, as_version=4)
    source = "".join(c.source for c in shipped.cells)
    uses = list(exercises_in(shipped)) + [n for n in checks.EXERCISES if f'notebook.load("{n}")' in source]
    assert uses
    for name in uses:
        assert f"{name}: not passing yet" in as_handed_out and f"{name}: every check passes" in as_solved, name
    assert "not written yet" in as_handed_out          # the grader's word for a TODO still there
    assert "does not pass its check yet" in as_handed_out
    assert "not written yet" not in as_solved and "does not pass its check yet" not in as_solved
