"""The lab notebooks: committed clean, and each one runs headless from top to bottom.

Each notebook is executed by nbclient on an IPython kernel (the ``.[labs]``
extra) in a fresh folder, with ``DESCENTLAB_FAST=1``: the notebooks read it
and use their fast setting (fewer optimizers, steps and epochs), so that CI
checks every cell in seconds instead of the minutes a student gives them.
"""

import shutil
import time
from pathlib import Path

import nbclient   # the labs extra: pip install -e '.[test,labs]'
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "labs" / "notebooks").glob("*.ipynb"))


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_headless(path, tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENTLAB_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    began = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - began
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
              if o.output_type == "error"]
    assert errors == []
    print(f"{path.name}: {seconds:.1f} s")
