"""An exercise a student wrote in a notebook: the code cell that defines it, as a
file the grader runs.

The notebooks of ``lab new`` hold each exercise's stub in a cell (``class
Momentum(LectureOptimizer): ...``), so a student may solve it there and hand
in the notebook instead of ``momentum.py``. ``extract`` finds the last code
cell that defines the exercise's class or function at its top level, writes
its lines unchanged into a file (IPython's ``%magic`` and ``!shell`` lines
blanked, so that line numbers stay the cell's), and names it for the student
("02_momentum_and_nag.ipynb, cell 4"). The cell runs after ``PREAMBLE``, the
imports every stub file starts with, in place of the notebook's first cell
(which imports plotting and landscapes the checks do not need).

Reads the notebook as JSON (nbformat's v4 layout), so that the Gradescope
bundle needs nothing beyond torch and numpy.
"""

import dataclasses
import json
import re
from pathlib import Path

from descentlab.errors import UserError
from descentlab.io import write_text

# What the exercise stubs import (labs/exercises/*.py), and nothing else.
PREAMBLE = "import math\nimport torch\nfrom descentlab.optimizers import ClosedForm, LectureOptimizer\n"


@dataclasses.dataclass(frozen=True)
class Cell:
    file: Path     # the cell's code, line for line
    label: str     # "02_momentum_and_nag.ipynb, cell 4" (counting every cell from 1, as the notebook shows them)


def code_cells(path):
    """``[(cell number from 1, source)]`` of the notebook's code cells; ``UserError`` in one
    line when ``path`` is not a notebook."""
    path = Path(path)
    try:
        cells = json.loads(path.read_text(errors="replace"))["cells"]
        found = [(number, "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
                 for number, cell in enumerate(cells, 1) if cell.get("cell_type") == "code"]
    except json.JSONDecodeError as exc:
        raise UserError(f"{path.name} is not a valid notebook ({exc.msg} at line {exc.lineno})") from None
    except (KeyError, TypeError, AttributeError):
        raise UserError(f"{path.name} is not a valid notebook (no list of cells with sources)") from None
    if not all(isinstance(source, str) for _, source in found):
        raise UserError(f"{path.name} is not a valid notebook (a cell's source is not text)")
    return found


def defines(source, symbol):
    return re.search(rf"^(?:class|def)\s+{re.escape(symbol)}\b", source, re.M) is not None


def extract(path, symbol, folder):
    """The last code cell of the notebook at ``path`` that defines ``symbol``, written into
    ``folder`` as a ``Cell``; None when no cell does. ``UserError`` for a file that is not a
    notebook."""
    path = Path(path)
    found = [(number, source) for number, source in code_cells(path) if defines(source, symbol)]
    if not found:
        return None
    number, source = found[-1]
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    file = Path(folder) / f"{path.stem}.cell{number}.py"
    write_text(file, "\n".join(lines) + "\n")
    return Cell(file, f"{path.name}, cell {number}")
