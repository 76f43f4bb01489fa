"""The lab notebooks: committed clean, built as exercises, and each one runs headless
from top to bottom, both as shipped (every exercise still a TODO, no exercise files
beside it: it must say what is missing, not stop) and as ``descentlab lab new``
copies it, with every exercise solved (tests/lab_solutions.py) in its cells and files.

Each notebook is executed by nbclient on an IPython kernel (the ``.[labs]`` extra)
with ``DESCENTLAB_FAST=1``: the notebooks read it and use their fast setting
(fewer steps and epochs), so that CI checks every cell in seconds.
"""

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


def execute(path, folder):
    """Run the notebook at ``path`` in ``folder`` (its working directory); all its text outputs."""
    nb = nbformat.read(path, as_version=4)
    began = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    print(f"{path.name}: {time.perf_counter() - began:.1f} s")
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert errors == [], "\n".join(f"{e.ename}: {e.evalue}" for e in errors)
    texts = [o.get("text", "") or o.get("data", {}).get("text/plain", "")
             for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    return "\n".join(texts)


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setenv("DESCENTLAB_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_as_handed_out_runs_to_the_end_and_says_what_is_missing(path, tmp_path, fast, monkeypatch):
    """``lab new DIR`` as a student gets it: every exercise still a TODO, in the notebook's
    cells and in the files above it; the static figures instead of the sliders."""
    monkeypatch.setenv("DESCENTLAB_WIDGETS", "0")
    handout.new_lab(tmp_path)
    copy = tmp_path / "notebooks" / path.name
    assert copy.read_text() == path.read_text()
    printed = execute(copy, copy.parent)
    nb = nbformat.read(path, as_version=4)
    uses = list(exercises_in(nb)) + [name for name in checks.EXERCISES if f'notebook.load("{name}")' in
                                     "".join(c.source for c in nb.cells)]
    assert uses
    for name in uses:
        assert re.search(rf"{name} \(.*\): .*\n(.*\n)*  hint: not written yet: fill in the TODO body", printed), name
    assert "does not pass its check yet" in printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_in_a_lab_with_every_exercise_solved(path, tmp_path, fast):
    """``lab new DIR``, every stub file and every exercise cell filled with the solutions."""
    handout.new_lab(tmp_path)
    for name in checks.EXERCISES:
        stub = tmp_path / f"{name}.py"
        stub.write_text(fill(stub.read_text(), SOLUTIONS[name]))
    copy = tmp_path / "notebooks" / path.name
    nb = nbformat.read(copy, as_version=4)
    for name, cell in exercises_in(nb).items():
        cell.source = fill(cell.source, SOLUTIONS[name])
    nbformat.write(nb, str(copy))
    printed = execute(copy, copy.parent)
    for name in exercises_in(nbformat.read(path, as_version=4)):
        total = len(checks.exercise(name).checks)
        assert f"{total}/{total} checks passed" in printed, name
    assert "not written yet" not in printed and "does not pass its check yet" not in printed
