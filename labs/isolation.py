"""Keep the answers out of reach of the code being graded.

The answers ship in the package the student installs: our optimizers
(``descentlab.optimizers.Adam`` is the answer to ``adam.py``), schedules and
clipping, the grader's own modules, and torch's optimizers, schedulers,
fused optimizer kernels and ``clip_grad_norm_``. A submission that imports,
subclasses, calls or reads one of them is refused, with the line that did it,
in three layers:

* ``static_refusal(path)``: an AST pass over the student's file, before it
  runs: an import of an answer, or a dotted use such as ``torch.optim.Adam``
  (aliases like ``import torch.optim as optim`` followed), gives the friendly
  first line, "adam.py line 3 imports descentlab.optimizers.Adam";
* ``reference_origin(impl)``: the class or function handed to the checks is,
  or subclasses, an answer;
* ``install()``, in the sandbox process before the student's file is
  imported (what makes the other two hold): ``descentlab.optimizers`` becomes
  a package holding only the kit, the two base classes the stubs subclass
  (``LectureOptimizer`` and ``ClosedForm``), loaded without running the
  package's ``__init__``; an import hook and an audit hook
  (``sys.addaudithook``, which the student's code cannot remove) refuse
  importing any other descentlab module; the audit hook also refuses
  opening descentlab's own files other than those already loaded (so
  ``spec_from_file_location`` or ``open().read()`` + ``exec`` of
  ``optimizers/adam.py`` fail too) and starting another program; torch's
  answers are replaced by functions that raise, and its fused optimizer
  kernels by a kernel that raises.

Every refusal raises ``AnswerRefused`` (an ImportError) and is remembered with
the student's line, so that a submission that catches it still fails. This
keeps honest mistakes out; it is not a security boundary against a student
who goes after the interpreter itself (``ctypes``, ``gc``): Gradescope's
container is that.
"""

import ast
import dataclasses
import functools
import inspect
import linecache
import os
import sys
import types
from pathlib import Path

# The kit: the descentlab modules a student file may import, and the names
# ``descentlab.optimizers`` holds while grading.
KIT = {"LectureOptimizer": "descentlab.optimizers.base", "ClosedForm": "descentlab.optimizers.closed_form"}
KIT_MODULES = {"descentlab", "descentlab.optimizers", *KIT.values()}
# Starting another program could import anything.
_PROGRAM_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                   "os.forkpty", "pty.spawn"}


class AnswerRefused(ImportError):
    """The code being graded reached for an answer."""


# ---------------------------------------------------------------- what the answers are

@functools.cache
def _optimizer_modules():
    """torch.optim's modules that define an optimizer (torch.optim.adam, ...), with the two
    that re-export their functions."""
    import torch

    found = {"torch.optim._functional", "torch.optim._multi_tensor"}
    for name, module in list(sys.modules.items()):
        if name.startswith("torch.optim.") and module is not None and any(
                isinstance(v, type) and issubclass(v, torch.optim.Optimizer) and v is not torch.optim.Optimizer
                and getattr(v, "__module__", None) in (name, "torch.optim") for v in vars(module).values()):
            found.add(name)
    return found - {"torch.optim.optimizer", "torch.optim.lr_scheduler", "torch.optim.swa_utils"}


@functools.cache
def torch_answers():
    """Public name -> object, for every answer in torch: its optimizers (any
    subclass of ``torch.optim.Optimizer`` it defines), its schedulers (other than
    the ``LRScheduler`` base), the functions of its optimizer modules
    (``torch.optim.adam.adam``, ...) and its gradient-norm clipping."""
    import torch
    import torch.nn.utils.clip_grad as clip_grad
    import torch.optim.lr_scheduler as lr_scheduler

    found = {}
    for name, obj in vars(torch.optim).items():
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer) and obj is not torch.optim.Optimizer:
            found[f"torch.optim.{name}"] = obj
    for name, obj in vars(lr_scheduler).items():
        if (isinstance(obj, type) and issubclass(obj, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau))
                and obj not in (lr_scheduler.LRScheduler, lr_scheduler._LRScheduler)):
            found[f"torch.optim.lr_scheduler.{name}"] = obj
    for module in filter(None, map(sys.modules.get, _optimizer_modules())):
        for obj in vars(module).values():
            if inspect.isfunction(obj) and obj.__module__ in _optimizer_modules():
                found.setdefault(f"{obj.__module__}.{obj.__name__}", obj)
    for name, obj in vars(clip_grad).items():
        if inspect.isfunction(obj) and obj.__module__ == clip_grad.__name__ and "norm" in name:
            found[f"torch.nn.utils.clip_grad.{name}"] = obj
            if hasattr(torch.nn.utils, name.lstrip("_")):
                found[f"torch.nn.utils.{name.lstrip('_')}"] = obj
    return found


@functools.cache
def _refused_prefixes():
    """Dotted names an import or a use may not start with (besides descentlab's)."""
    fused = [f"{owner}.{name}" for name in _fused_kernel_names() for owner in
             ("torch", "torch.ops.aten", "torch._C._VariableFunctions")]
    return (*torch_answers(), *_optimizer_modules(), "torch.nn.utils.clip_grad", *fused)


@functools.cache
def _fused_kernel_names():
    """torch's fused optimizer kernels: ``_fused_adam_``, ``_fused_sgd``, ... (names of ``torch.ops.aten``)."""
    import torch

    algorithms = sorted({obj.__name__.lower() for obj in torch_answers().values()
                         if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer)})
    return [name for algorithm in algorithms for name in (f"_fused_{algorithm}", f"_fused_{algorithm}_")
            if hasattr(torch.ops.aten, name)]


def is_answer_name(dotted):
    """True when a dotted name (``torch.optim.Adam``, ``descentlab.optimizers.adam.Adam``)
    reaches an answer: any descentlab name but the kit's, and torch's answers."""
    parts = dotted.split(".")
    if parts[0] == "descentlab":
        if len(parts) == 1 or dotted in KIT_MODULES:
            return False
        kit = parts[:2] == ["descentlab", "optimizers"] and len(parts) >= 3 and (
            parts[2] in KIT or ".".join(parts[:3]) in KIT_MODULES)
        return not kit
    return parts[0] == "torch" and any(dotted == prefix or dotted.startswith(prefix + ".")
                                       for prefix in _refused_prefixes())


def _origin_name(obj):
    """The public name of a torch answer, or the module path of a descentlab one."""
    for name, answer in torch_answers().items():
        if answer is obj:
            return name
    return f"{obj.__module__}.{getattr(obj, '__qualname__', obj)}"


def _is_answer(obj):
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("descentlab.") and module not in KIT_MODULES:
        return True
    return any(obj is answer for answer in torch_answers().values())


def reference_origin(impl):
    """How ``impl`` (the student's class or function) is an answer: "is torch.optim.Adam",
    "subclasses descentlab.optimizers.adam.Adam"; None when it is the student's own."""
    while isinstance(impl, functools.partial):
        impl = impl.func
    if _is_answer(impl):
        return f"is {_origin_name(impl)}"
    for base in getattr(impl, "__mro__", ())[1:]:
        if _is_answer(base):
            return f"subclasses {_origin_name(base)}"
    return None


# ---------------------------------------------------------------- the AST pass

@dataclasses.dataclass
class Refusal:
    did: str                # "imports descentlab.optimizers.Adam", "uses torch.optim.SGD", ...
    line: int = None        # in the student's file
    code: str = None
    function: str = None

    def as_dict(self):
        return dataclasses.asdict(self)


def _dotted(node, aliases):
    """``torch.optim.Adam`` for an attribute chain rooted at a name, with the
    root replaced by what it was imported as; None for anything else."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([aliases.get(node.id, node.id), *reversed(names)])


def _uses(tree):
    """(line, verb, dotted name) for every import and every dotted use in ``tree``."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                yield node.lineno, "imports", alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                yield node.lineno, "imports", f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node, aliases)
            if dotted:
                yield node.lineno, "uses", dotted
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (_dotted(node.func, aliases) or "") in ("importlib.import_module", "__import__")):
            yield node.lineno, "imports", node.args[0].value


def static_refusal(path):
    """The first line of the file at ``path`` that imports or uses an answer, as a
    ``Refusal``; None when there is none (or the file does not parse: importing it says why)."""
    text = Path(path).read_text(errors="replace")
    try:
        tree = ast.parse(text, str(path))
    except SyntaxError:
        return None
    found = sorted(((line, -len(name), verb, name) for line, verb, name in _uses(tree) if is_answer_name(name)))
    if not found:
        return None
    line, _, verb, name = found[0]
    did = f"{verb} {name}"
    if name.rsplit(".", 1)[-1] in KIT:   # a base class, from a module that holds answers too
        did += f" (import {name.rsplit('.', 1)[-1]} from descentlab.optimizers)"
    return Refusal(did, line, text.splitlines()[line - 1].strip())


# ---------------------------------------------------------------- the sandbox

class _Watch:
    """The student file being graded and the first refusal of its run."""
    path = None
    first = None


def watch(path):
    """Remember from now on the first refusal of the code in ``path``."""
    _Watch.path, _Watch.first = os.path.realpath(path), None


def refusal():
    """The first refusal since ``watch`` (a ``Refusal`` as a dict), or None."""
    return _Watch.first.as_dict() if _Watch.first else None


def _refuse(did):
    """Remember (with the student's line) and return the exception to raise."""
    frame = sys._getframe(1)
    while frame is not None and os.path.realpath(frame.f_code.co_filename) != _Watch.path:
        frame = frame.f_back
    if _Watch.first is None:
        where = {}
        if frame is not None:
            where = dict(line=frame.f_lineno, function=frame.f_code.co_name,
                         code=linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip())
        _Watch.first = Refusal(did, **where)
    return AnswerRefused(f"{did.split(' ', 1)[1]} is not available while your exercise is graded: "
                         "the exercise is to write it yourself")


def _refusing(what):
    def refused(*args, **kwargs):
        raise _refuse(f"uses {what}")
    refused.__name__ = refused.__qualname__ = what.rsplit(".", 1)[-1]
    return refused


def _kit_package():
    """Make ``descentlab.optimizers`` a package holding only the kit: the kit's
    modules run, the package's ``__init__`` (which imports every optimizer) does
    not. Any other name of it is refused."""
    import importlib
    import importlib.util

    import descentlab

    folder = importlib.util.find_spec("descentlab.optimizers").submodule_search_locations[0]
    package = types.ModuleType("descentlab.optimizers", "The lab's kit: the base classes the exercises subclass.")
    package.__path__ = [folder]
    sys.modules["descentlab.optimizers"] = descentlab.optimizers = package
    for name, module in KIT.items():
        setattr(package, name, getattr(importlib.import_module(module), name))
    package.__path__ = []   # nothing else is found through it

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _refuse(f"imports descentlab.optimizers.{name}")
    package.__getattr__ = __getattr__


def _disable_torch():
    """Make every torch answer raise: classes on construction and on any of their
    own methods, functions where any torch.optim / torch.nn.utils module holds
    them, and the fused kernels at the dispatcher (however they are reached)."""
    import warnings

    import torch

    answers = torch_answers()
    functions = {id(obj): name for name, obj in answers.items() if inspect.isfunction(obj)}
    for name, obj in answers.items():
        if isinstance(obj, type):
            for attr, value in list(vars(obj).items()):
                if inspect.isfunction(value):
                    setattr(obj, attr, _refusing(name))
    for module in [m for n, m in list(sys.modules.items())
                   if n.startswith(("torch.optim", "torch.nn.utils")) and m is not None]:
        for attr, value in list(vars(module).items()):
            if id(value) in functions:
                setattr(module, attr, _refusing(functions[id(value)]))
    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "overriding a previously registered kernel": that is the point
        for name in _fused_kernel_names():
            for overload in getattr(torch.ops.aten, name).overloads():
                library.impl(name if overload == "default" else f"{name}.{overload}",
                             _refusing(f"torch.{name}"), "CPU")
    _disable_torch.library = library   # registrations last as long as the Library object


class _RefuseDescentlab:
    """First on ``sys.meta_path``: any descentlab module not loaded yet is refused
    (``importlib.import_module`` does not raise the "import" audit event; the
    audit hook still refuses reading the file if this finder is removed)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.startswith("descentlab.") and name not in sys.modules:
            raise _refuse(f"imports {name}")
        return None


def install(refuse_roots=()):
    """Isolate this process (the sandbox) before any student code runs; see the
    module docstring. ``refuse_roots``: more folders whose files may not be
    opened (the autograder's own folder)."""
    import descentlab

    _kit_package()
    _disable_torch()
    # What this process has loaded may be read again (tracebacks show its lines).
    main = sys.modules["__main__"]
    loaded = {os.path.realpath(m.__file__) for n, m in list(sys.modules.items())
              if (n.startswith("descentlab") or m is main) and getattr(m, "__file__", None)}
    roots = [os.path.realpath(os.path.dirname(folder)) for folder in
             (descentlab.__file__, __file__, sys.modules[KIT["ClosedForm"]].__file__)]
    roots += [os.path.realpath(root) for root in refuse_roots]

    def audit(event, args):
        if event == "import":
            if args[0].startswith("descentlab.") and args[0] not in sys.modules:
                raise _refuse(f"imports {args[0]}")
        elif event == "open":
            if isinstance(args[0], int):
                return
            path = os.path.realpath(os.fsdecode(args[0]))
            if path in loaded:
                return
            for root in roots:
                if path.startswith(root + os.sep):
                    raise _refuse(f"reads {os.path.relpath(path, os.path.dirname(root))}")
        elif event in _PROGRAM_EVENTS:
            raise _refuse(f"starts another program ({event})")

    sys.addaudithook(audit)
    sys.meta_path.insert(0, _RefuseDescentlab)
