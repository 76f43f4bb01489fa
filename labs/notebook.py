"""What the lab notebooks share: the student's lab folder on the import path,
the student's class checked by the grader, and a clear word when something is
not written yet instead of a traceback that stops the notebook.

A notebook copied by ``descentlab lab new DIR`` runs in ``DIR/notebooks``;
the exercise files (``momentum.py``, ...) are in ``DIR``, the folder above:
``use_lab_folder()`` puts it first on ``sys.path`` so that
``from momentum import Momentum`` imports the student's file.
"""

import importlib
import os
import sys
from pathlib import Path


def fast():
    """True under ``DESCENTLAB_FAST=1``: CI's setting, fewer steps and epochs."""
    return os.environ.get("DESCENTLAB_FAST") == "1"


def lab_folder():
    """The folder above the notebook's (``lab new``'s DIR when the notebook is DIR/notebooks/X)."""
    return Path.cwd().resolve().parent


def use_lab_folder():
    """Put the lab folder first on ``sys.path`` (once)."""
    folder = str(lab_folder())
    if folder not in sys.path:
        sys.path.insert(0, folder)


def load(exercise):
    """The class or function the student's ``<exercise>.py`` defines, imported afresh (so a
    saved edit counts), or None after one line saying why (no such file, it does not import)."""
    from descentlab.labs import checks

    symbol = checks.exercise(exercise).symbol
    use_lab_folder()
    path = lab_folder() / f"{exercise}.py"
    if not path.is_file():
        print(f"{path} not found: this notebook reads your {exercise}.py from the folder above it, the one "
              f"`descentlab lab new DIR` wrote (open DIR/notebooks/ in Jupyter)")
        return None
    try:
        module = importlib.reload(sys.modules[exercise]) if exercise in sys.modules \
            else importlib.import_module(exercise)
    except Exception as exc:     # the student's file: any error is theirs to see, in one line
        print(f"{path.name} does not import: {type(exc).__name__}: {exc} "
              f"(run `descentlab lab check {exercise} --path {path}` for the line)")
        return None
    found = getattr(module, symbol, None)
    if found is None:
        print(f"{path.name} defines no {symbol} (the exercise's stub does)")
    return found


def check(exercise, obj):
    """Grade the student's class or function ``obj`` (defined in a cell or loaded from its file)
    against ours; prints the grader's report and a last line with the verdict; True when
    every check passes."""
    from descentlab.labs import grader

    if obj is None:
        print(f"{exercise}: nothing to check yet")
        return False
    passed = grader.check_class(exercise, obj).passed
    print(f"{exercise}: every check passes" if passed else f"{exercise}: not passing yet (the report above says why)")
    return passed


def missing(what, instead):
    """Say that ``what`` must pass its check first, and what the cell shows ``instead``."""
    print(f"{what} does not pass its check yet (the check above says what is missing): {instead}")
