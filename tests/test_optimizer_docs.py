"""What ``help()`` shows of every registry class: its own docstring (not the
base class's), with the update formula, its lecture source, the nearest
torch.optim class, and an Args section naming exactly the constructor's
arguments (a renamed or added argument fails until the docstring follows)."""

import inspect
import pydoc
import re

import pytest

from descentlab import optimizers

FORMULA = re.compile(r"w_\{t\+1\}\s*=")   # the update, in the lectures' notation
CLASSES = sorted({entry.cls for entry in optimizers.REGISTRY.values()}, key=lambda cls: cls.__name__)


def documented_arguments(doc):
    """The argument names of the docstring's ``Args:`` section: each entry starts at the
    section's indentation as ``name (type, default): ...`` or ``a, b, c: ...``."""
    lines = inspect.cleandoc(doc).splitlines()
    start = lines.index("Args:") + 1
    names = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break   # the section ends at the next unindented paragraph
        if re.match(r"^ {4}\S", line):
            head = line.strip().split(": ", 1)[0]
            while re.search(r"\([^()]*\)", head):
                head = re.sub(r"\([^()]*\)", "", head)   # "(type, default (0.9, 0.999))"
            names += [part.strip() for part in head.split(",")]
    return names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_registry_class_documents_itself(cls):
    assert "__doc__" in vars(cls) and cls.__doc__, f"{cls.__name__} has no docstring of its own"
    parameters = list(inspect.signature(cls).parameters)
    documented = documented_arguments(cls.__doc__)
    assert sorted(documented) == sorted(parameters), (
        f"{cls.__name__}'s Args section names {documented}, its constructor takes {parameters}")
    assert FORMULA.search(cls.__doc__), f"{cls.__name__}: no update formula (w_{{t+1}} = ...)"
    assert re.search(r"lecture 00\d", cls.__doc__, re.IGNORECASE), f"{cls.__name__}: no lecture cited"
    assert re.search(r"Versus torch\.optim\.[A-Z]", cls.__doc__), f"{cls.__name__}: no nearest torch.optim class"
    shown = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    missing = [line.strip() for line in cls.__doc__.splitlines() if line.strip() not in shown]
    assert not missing, f"help({cls.__name__}) does not show {missing[:3]}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_formula_is_in_the_class_not_only_in_its_module(cls):
    """A module docstring is the map of its file; the formula is where help() shows it."""
    module = inspect.getmodule(cls)
    assert not FORMULA.search(module.__doc__ or "")


def test_the_args_parser_sees_a_missing_argument():
    doc = """Title.

    Args:
        params (iterable): the parameters
        betas ((float, float), default (0.9, 0.999)): beta1, beta2
        foreach, maximize: torch.optim's options

    Versus torch.optim.Adam: the same.
    """
    assert documented_arguments(doc) == ["params", "betas", "foreach", "maximize"]
