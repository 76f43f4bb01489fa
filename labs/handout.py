"""Hand out a lab: the exercise stubs, their README and the notebooks, copied into a folder."""

import importlib.resources
import json
from pathlib import Path

from descentlab.errors import UserError
from descentlab.io import write_text

from .checks import EXERCISES


def stub_files():
    """The exercise files (name -> text): one stub per exercise, and README.md."""
    package = importlib.resources.files("descentlab.labs.exercises")
    names = [f"{name}.py" for name in EXERCISES] + ["README.md"]
    return {name: package.joinpath(name).read_text() for name in names}


def notebook_files():
    """The lab notebooks (``notebooks/<name>.ipynb`` -> text), committed without outputs;
    ``UserError`` if one is not a notebook (a bad edit), before anything is written."""
    folder = importlib.resources.files("descentlab.labs").joinpath("notebooks")
    files = {f"notebooks/{item.name}": item.read_text() for item in sorted(folder.iterdir(), key=lambda i: i.name)
             if item.name.endswith(".ipynb")}
    for name, text in files.items():
        check_notebook(name, text)
    return files


def check_notebook(name, text):
    """``UserError`` in one line unless ``text`` is a notebook's JSON (an object with cells)."""
    try:
        cells = json.loads(text).get("cells")
    except (json.JSONDecodeError, AttributeError) as exc:
        where = f" ({exc.msg} at line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise UserError(f"{name} is not a valid notebook{where}: restore it from the descentlab package") from None
    if not isinstance(cells, list):
        raise UserError(f"{name} is not a valid notebook (no list of cells): restore it from the descentlab package")


def new_lab(directory):
    """Write the lab into ``directory`` (created if needed); never overwrite a student's file.
    Returns the paths written."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"{directory} exists and is not a directory")
    files = {**stub_files(), **notebook_files()}
    existing = sorted(name for name in files if (directory / name).exists())
    if existing:
        raise UserError(f"{directory} already holds {', '.join(existing)}: "
                        "choose a new folder (your work there is kept)")
    for name, text in files.items():
        write_text(directory / name, text)
    return [directory / name for name in files]
