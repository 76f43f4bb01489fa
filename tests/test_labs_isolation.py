"""Importing the answer fails: a submission that imports, subclasses, calls or
reads a reference optimizer (ours or torch's) fails every check with one line
saying why, and the sandbox that runs student code never holds a reference.

The runtime cases hide the answer's name from the AST pass (``getattr(torch.optim,
"Ad" + "am")``), so that it is the sandbox's isolation that refuses them; all
of them run in one sandbox process.
"""

import json

import pytest

from descentlab.cli import main
from descentlab.labs import checks, feedback, gradescope, grader, handout, isolation
from lab_solutions import SOLUTIONS, fill

STUBS = handout.stub_files()
ADAM = fill(STUBS["adam.py"], SOLUTIONS["adam"])
HEADER = "import torch\nfrom descentlab.optimizers import LectureOptimizer\n"
DELEGATE = HEADER + '''
class Adam(LectureOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        params = list(params)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.inner = {make}(params, lr=lr, betas=betas, eps=eps)

    def step(self, closure=None):
        return self.inner.step()
'''
IN_UPDATE = HEADER + '''
class Adam(LectureOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def update(self, param, grad, state, group):
        {body}
'''
SOURCE = "__import__('os').path.join(__import__('os').path.dirname(__import__('descentlab.optimizers.base')" \
         ".optimizers.base.__file__), 'ad' + 'am.py')"

# (id, exercise, the student's file, what the one line must say)
CASES = [
    ("import-the-answer", "adam", "from descentlab.optimizers import Adam\n",
     "adam.py line 1 imports descentlab.optimizers.Adam: the exercise is to write Adam yourself"),
    ("subclass-ours", "adam", "from descentlab.optimizers import adam\n\n\nclass Adam(adam.Adam):\n    pass\n",
     "adam.py line 1 imports descentlab.optimizers.adam: the exercise is to write Adam yourself"),
    ("subclass-torch-hidden-name", "adam", "import torch\n\n\nclass Adam(getattr(torch.optim, 'Ad' + 'am')):\n"
                                           "    pass\n",
     "adam.py defines Adam, which subclasses torch.optim.Adam: the exercise is to write Adam yourself"),
    ("delegate-torch", "adam", DELEGATE.format(make="torch.optim.Adam"),
     "adam.py line 8 uses torch.optim.Adam: the exercise"),
    ("delegate-torch-hidden-name", "adam", DELEGATE.format(make="getattr(torch.optim, 'Ad' + 'am')"),
     "adam.py line 8 uses torch.optim.Adam: the exercise"),
    ("importlib-in-update", "adam", IN_UPDATE.format(
        body="__import__('importlib').import_module('descentlab.optimizers.' + 'adam')"),
     "adam.py line 9 imports descentlab.optimizers.adam: the exercise"),
    ("dunder-import-in-update", "adam", IN_UPDATE.format(
        body="getattr(__import__('descentlab.optimizers', fromlist=['x']), 'Ad' + 'am')"),
     "adam.py line 9 imports descentlab.optimizers."),
    ("read-the-source-and-exec", "adam", IN_UPDATE.format(body=f"exec(open({SOURCE}).read())"),
     "adam.py line 9 reads optimizers/adam.py: the exercise"),
    ("spec-from-file-location", "adam", IN_UPDATE.format(
        body=f"spec = __import__('importlib.util').util.spec_from_file_location('x', {SOURCE})\n"
             "        spec.loader.exec_module(__import__('importlib.util').util.module_from_spec(spec))"),
     "reads optimizers/"),
    ("fused-kernel", "adam", IN_UPDATE.format(
        body="getattr(torch, '_fused_' + 'adam_')([param], [grad], [torch.zeros_like(param)], "
             "[torch.zeros_like(param)], [], [torch.zeros(())], lr=0.1, beta1=0.9, beta2=0.99, "
             "weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)"),
     "adam.py line 9 uses torch._fused_adam_: the exercise"),
    ("caught-and-hidden", "adam", ADAM.replace("        beta1, beta2 = group[\"betas\"]\n",
                                               "        try:\n"
                                               "            getattr(torch.optim, 'S' + 'GD')([param], lr=0.1)\n"
                                               "        except ImportError:\n"
                                               "            pass\n"
                                               "        beta1, beta2 = group[\"betas\"]\n"),
     "uses torch.optim.SGD: the exercise is to write Adam yourself"),
    ("another-program", "adam", IN_UPDATE.format(body="__import__('subprocess').run(['true'])"),
     "adam.py line 9 starts another program"),
    ("torch-step-lr", "step_decay", "import torch\nfrom descentlab.optimizers import ClosedForm\n\n\n"
                                    "def StepDecay(optimizer, step_size=5, gamma=0.5, last_epoch=-1):\n"
                                    "    return getattr(torch.optim.lr_scheduler, 'Step' + 'LR')"
                                    "(optimizer, step_size, gamma)\n",
     "step_decay.py line 6 uses torch.optim.lr_scheduler.StepLR: the exercise is to write StepDecay yourself"),
    ("torch-clip-grad-norm", "clip_grad_norm", "import torch\n\n\ndef clip_grad_norm(params, max_norm):\n"
                                               "    return getattr(torch.nn.utils, 'clip_grad_' + 'norm_')"
                                               "(params, max_norm)\n",
     "clip_grad_norm.py line 5 uses torch.nn.utils.clip_grad_norm_: the exercise"),
]

PROBE = '''
import json, sys
import descentlab.optimizers as kit
raise RuntimeError("PROBE " + json.dumps({
    "modules": sorted(name for name in sys.modules if name.startswith("descentlab")),
    "kit": sorted(name for name in vars(kit) if not name.startswith("__"))}))
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    pairs = []
    for name, exercise, text, _ in CASES:
        folder = tmp_path_factory.mktemp(name)
        (folder / f"{exercise}.py").write_text(text)
        pairs.append((exercise, folder / f"{exercise}.py"))
    for exercise in ("adam", "step_decay", "clip_grad_norm"):
        folder = tmp_path_factory.mktemp(f"correct-{exercise}")
        (folder / f"{exercise}.py").write_text(fill(STUBS[f"{exercise}.py"], SOLUTIONS[exercise]))
        pairs.append((exercise, folder / f"{exercise}.py"))
    probe = tmp_path_factory.mktemp("probe") / "momentum.py"
    probe.write_text(PROBE)
    pairs.append(("momentum", probe))
    reports = grader.grade(pairs, seconds=30)
    return dict(zip([c[0] for c in CASES] + ["correct-adam", "correct-step_decay", "correct-clip_grad_norm",
                                             "probe"], reports))


@pytest.mark.slow
@pytest.mark.parametrize("case, line", [(c[0], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_reaching_for_an_answer_fails_every_check_with_one_line(graded, case, line):
    report = graded[case]
    assert report.refused and not report.passed and grader.exit_code([report]) == 1
    assert line in feedback.problem(report), feedback.problem(report)
    assert feedback.hints(report) == [feedback.problem(report)]
    results = gradescope.results([report])
    assert results["score"] == 0 and len(results["tests"]) == len(checks.exercise(report.exercise).checks)
    assert all(t["status"] == "failed" and t["output"] == feedback.problem(report) for t in results["tests"])


@pytest.mark.slow
@pytest.mark.parametrize("exercise", ["adam", "step_decay", "clip_grad_norm"])
def test_a_correct_submission_still_passes_in_the_sandbox(graded, exercise):
    report = graded[f"correct-{exercise}"]
    assert report.passed and grader.exit_code([report]) == 0, report.text


@pytest.mark.slow
def test_the_sandbox_holds_no_reference_when_the_students_code_starts(graded):
    message = graded["probe"].import_error["message"]
    seen = json.loads(message.removeprefix("PROBE "))
    assert set(seen["modules"]) <= {"descentlab", "descentlab.labs", "descentlab.labs.isolation",
                                    "descentlab.labs.runs", *isolation.KIT_MODULES}, seen["modules"]
    # the two base classes, and the two modules that hold them
    assert set(seen["kit"]) == set(isolation.KIT) | {module.rsplit(".", 1)[1] for module in isolation.KIT.values()}


@pytest.mark.parametrize("text, line, did", [
    ("from descentlab.optimizers import LectureOptimizer, ClosedForm\n"
     "from descentlab.optimizers.base import LectureOptimizer\nimport torch.optim\n"
     "from torch.optim.lr_scheduler import LRScheduler\nx = torch.optim.Optimizer\n", None, None),
    ("import torch\n\nx = torch.optim.SGD\n", 3, "uses torch.optim.SGD"),
    ("import torch.optim as optim\n\n\ndef f(p):\n    return optim.Adam(p)\n", 5, "uses torch.optim.Adam"),
    ("from torch import optim\nx = optim.adam.adam\n", 2, "uses torch.optim.adam.adam"),
    ("from torch.optim import SGD\n", 1, "imports torch.optim.SGD"),
    ("from torch.optim.lr_scheduler import StepLR\n", 1, "imports torch.optim.lr_scheduler.StepLR"),
    ("import torch\nx = torch.nn.utils.clip_grad_norm_\n", 2, "uses torch.nn.utils.clip_grad_norm_"),
    ("from descentlab.optimizers.schedules import ClosedForm\n", 1,
     "imports descentlab.optimizers.schedules.ClosedForm (import ClosedForm from descentlab.optimizers)"),
    ("import importlib\nm = importlib.import_module('descentlab.optimizers.adam')\n", 2,
     "imports descentlab.optimizers.adam"),
    ("from descentlab import labs\n", 1, "imports descentlab.labs"),
])
def test_the_ast_pass_names_the_line_and_what_it_reaches_for(tmp_path, text, line, did):
    path = tmp_path / "adam.py"
    path.write_text(text)
    refusal = isolation.static_refusal(path)
    if did is None:
        assert refusal is None
    else:
        assert (refusal.line, refusal.did) == (line, did)


def test_the_stubs_and_the_solutions_pass_the_ast_pass(tmp_path):
    for name in checks.EXERCISES:
        for text in (STUBS[f"{name}.py"], fill(STUBS[f"{name}.py"], SOLUTIONS[name])):
            (tmp_path / f"{name}.py").write_text(text)
            assert isolation.static_refusal(tmp_path / f"{name}.py") is None, name


def test_a_class_or_function_that_is_an_answer_is_refused_in_a_notebook_too():
    import functools

    import torch

    from descentlab import optimizers
    from descentlab.optimizers import LectureOptimizer

    class Adam(optimizers.Adam):
        pass

    class Own(LectureOptimizer):
        pass

    assert isolation.reference_origin(Adam) == "subclasses descentlab.optimizers.adam.Adam"
    assert isolation.reference_origin(torch.optim.SGD) == "is torch.optim.SGD"
    assert isolation.reference_origin(functools.partial(torch.optim.Adam, lr=0.1)) == "is torch.optim.Adam"
    assert isolation.reference_origin(optimizers.clipping.clip_grad_norm) == \
        "is descentlab.optimizers.clipping.clip_grad_norm"
    assert isolation.reference_origin(Own) is None
    report = grader.check_class("adam", Adam, show=False)
    assert not report.passed and report.refused
    assert ("refused: test_labs_isolation.py defines Adam, which subclasses descentlab.optimizers.adam.Adam: "
            "the exercise is to write Adam yourself") in report.text


def test_lab_check_exits_1_with_the_reason_in_the_terminal_and_in_the_json(tmp_path, capsys):
    path = tmp_path / "adam.py"
    path.write_text(HEADER + "from descentlab.optimizers import Adam as Ours\n\n\nclass Adam(Ours):\n    pass\n")
    line = "adam.py line 3 imports descentlab.optimizers.Adam: the exercise is to write Adam yourself"
    assert main(["lab", "check", "adam", "--path", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"  refused: {line}" in out and "0/4 checks passed" in out
    assert main(["lab", "check", "adam", "--path", str(path), "--json"]) == 1
    results = json.loads(capsys.readouterr().out)
    assert results["score"] == 0 and [t["output"] for t in results["tests"]] == [line] * 4
