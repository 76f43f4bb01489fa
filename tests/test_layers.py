"""The import layers: data flows one way, and imports follow it.

Every module of descentlab is parsed (``ast``, so an import hidden inside a
function counts too) and each import of ours is checked against the layer
table below: a package may import only the packages listed for it. A bare
``import optimizers`` (a student's ``optimizers.py`` would replace ours) fails
as well.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Where each package's source lives: the layout rule, every top-level package
# folder X is descentlab.X (test_the_layout_rule holds pyproject to it).
SOURCES = {"optimizers": "optimizers", "models": "models", "train": "train", "export": "export",
           "infer": "infer", "labs": "labs", "compare": "compare", "cli": "cli",
           "errors": "descentlab/errors.py", "io": "descentlab/io.py"}

CORE = {"errors", "io"}
# Bottom up: each package and the packages of ours it may import.
ALLOWED = {
    "errors": set(),
    "io": set(),
    "optimizers": CORE,
    "models": CORE,
    "train": CORE | {"optimizers", "models"},
    "export": CORE | {"optimizers", "models", "train"},
    "infer": CORE | {"optimizers", "models", "train"},
    "compare": CORE | {"optimizers", "models", "train", "export", "infer"},
    "labs": CORE | {"optimizers", "models", "train"},
    "cli": set(SOURCES),
}
BARE = {"optimizers", "models", "train", "export", "infer", "labs", "compare", "cli"}


def modules(package):
    path = ROOT / SOURCES[package]
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def imported(path, package):
    """(line, package of ours) for every import of ours in the file; relative
    imports stay inside ``package``; a bare import gives ``"bare:<name>"``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                continue
            if node.module == "descentlab":
                names = [f"descentlab.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] in BARE:
                yield node.lineno, f"bare:{name}"
            elif parts[0] == "descentlab" and len(parts) > 1:
                yield node.lineno, parts[1]


def test_the_layout_rule():
    """Every top-level package folder X is descentlab.X, and descentlab/ is the
    package root only (errors, io, __main__), as the README states."""
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "descentlab")
    mapped = {name: folder for name, folder in setuptools["package-dir"].items() if name != "descentlab"}
    assert mapped == {f"descentlab.{folder}": folder for folder in folders}
    assert setuptools["package-dir"]["descentlab"] == "descentlab"
    root = sorted(p.name for p in (ROOT / "descentlab").iterdir() if p.name != "__pycache__")
    assert root == ["__init__.py", "__main__.py", "errors.py", "io.py"]
    # and every package folder below them is installed under that name
    found = {_installed_name(p.parent) for p in ROOT.glob("*/**/__init__.py")
             if p.relative_to(ROOT).parts[0] in folders + ["descentlab"]}
    assert found == set(setuptools["packages"])


def _installed_name(folder):
    parts = folder.relative_to(ROOT).parts
    return ".".join(["descentlab", *(parts[1:] if parts[0] == "descentlab" else parts)])


def test_every_source_file_belongs_to_a_layer():
    covered = {p for package in SOURCES for p in modules(package)}
    ours = set((ROOT / "descentlab").rglob("*.py")) | {p for d in BARE for p in (ROOT / d).rglob("*.py")}
    outside = {p for p in ours if p.name not in ("__init__.py", "__main__.py") or p.parent != ROOT / "descentlab"}
    assert sorted(str(p.relative_to(ROOT)) for p in outside - covered) == []


@pytest.mark.parametrize("package", sorted(SOURCES))
def test_imports_only_lower_layers(package):
    wrong = []
    for path in modules(package):
        for line, name in imported(path, package):
            where = f"{path.relative_to(ROOT)}:{line}"
            if name.startswith("bare:"):
                wrong.append(f"{where} bare import '{name[5:]}'")
            elif name != package and name in SOURCES and name not in ALLOWED[package]:
                wrong.append(f"{where} imports descentlab.{name}")
    assert wrong == []


def test_the_checker_catches_an_upward_and_a_bare_import(tmp_path):
    """The test above can fail: an upward import and a bare one are both found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from descentlab import export\n    import optimizers\n")
    assert list(imported(bad, "train")) == [(2, "export"), (3, "bare:optimizers")]
