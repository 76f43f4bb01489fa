"""The lab exercises and their grader, end to end through the real stubs.

A solution typed into the shipped stubs from the lecture formulas passes every
check; each stub as shipped fails with a hint; each typical mistake (one edit
of the solution, ``lab_solutions.MISTAKES``) fails and is named. The student
files run in the grader's sandbox process: all of one test's files in one
sandbox run, so torch is imported once.
"""

import json
import re

import pytest

from descentlab.cli import main
from descentlab.labs import checks, feedback, grader, handout, runs
from lab_solutions import MISTAKES, SOLUTIONS, fill, with_mistake

STUBS = handout.stub_files()


def write(tmp_path, name, text, exercise=None):
    path = tmp_path / name
    path.write_text(text)
    return (exercise or name.removesuffix(".py"), path)


@pytest.mark.slow
def test_every_exercise_has_a_stub_a_solution_and_checks_that_see_its_mistakes():
    assert set(SOLUTIONS) == set(checks.EXERCISES)
    for name, exercise in checks.EXERCISES.items():
        assert f"{name}.py" in STUBS and "TODO" in STUBS[f"{name}.py"]
        for mistake in exercise.mistakes:
            if mistake.impl is None:
                continue
            # a mistake no check can tell from the right answer would be a hint never given
            for chosen in (exercise.checks, exercise.hidden):
                ours = [runs.run(exercise.kind, exercise.reference, c) for c in chosen]
                assert any(grader.relative_error(runs.run(exercise.kind, mistake.impl, c).values, r.values)
                           > checks.tolerance(exercise, r) for c, r in zip(chosen, ours)), (name, mistake.key)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every solution, every stub and every mistake, graded in one sandbox run."""
    tmp = tmp_path_factory.mktemp("lab")
    pairs = []
    for name in checks.EXERCISES:
        pairs.append(write(tmp, f"{name}_solution.py", fill(STUBS[f"{name}.py"], SOLUTIONS[name]), name))
        pairs.append(write(tmp, f"{name}_stub.py", STUBS[f"{name}.py"], name))
    for i, (name, method, right, wrong, _) in enumerate(MISTAKES):
        text = fill(STUBS[f"{name}.py"], with_mistake(name, method, right, wrong))
        pairs.append(write(tmp, f"{name}_mistake{i}.py", text, name))
    two = with_mistake("adam", "update", 'beta1, beta2 = group["betas"]', 'beta2, beta1 = group["betas"]')
    two["update"] = two["update"].replace('(v_hat.sqrt() + group["eps"])', "v_hat.sqrt()")
    pairs.append(write(tmp, "adam_two_mistakes.py", fill(STUBS["adam.py"], two), "adam"))
    reports = grader.grade(pairs, seconds=60)
    return {report.path.stem: report for report in reports}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(checks.EXERCISES))
def test_the_lecture_formula_typed_into_the_stub_passes_every_check(graded, name):
    report = graded[f"{name}_solution"]
    assert report.passed, feedback.format_text([report])
    assert len(report.checks) == len(checks.EXERCISES[name].checks) >= 3
    assert all(c.relative_error <= checks.EXERCISES[name].tolerance for c in report.checks)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(checks.EXERCISES))
def test_each_stub_as_shipped_fails_with_one_hint_to_fill_it_in(graded, name):
    report = graded[f"{name}_stub"]
    assert not report.passed and not any(c.passed for c in report.checks)
    hints = feedback.hints(report)
    assert len(hints) == 1 and hints[0].startswith("not written yet: fill in the TODO body of")
    assert f"{name}_stub.py line" in hints[0]


@pytest.mark.parametrize("index", range(len(MISTAKES)),
                         ids=[f"{m[0]}-{m[4]}-{i}" for i, m in enumerate(MISTAKES)])
@pytest.mark.slow
def test_each_typical_mistake_fails_and_is_named_with_its_lecture_section(graded, index):
    name, _, _, _, key = MISTAKES[index]
    report = graded[f"{name}_mistake{index}"]
    failed = [c for c in report.checks if not c.passed]
    assert failed, feedback.format_text([report])
    assert {c.mistake.key for c in failed if c.mistake} == {key}, feedback.format_text([report])
    [hint] = [h for h in feedback.hints(report) if "(see " in h]
    assert re.search(r"\(see .*(lecture \d{3}|README)", hint)


@pytest.mark.slow
def test_two_mistakes_at_once_still_fail(graded):
    report = graded["adam_two_mistakes"]
    assert not report.passed and grader.exit_code([report]) == 1


def run_cli(capsys, *argv):
    """``descentlab ...`` in this process (the student code still runs in the sandbox):
    (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_lab_new_then_check_all_fails_with_one_hint_per_stub_then_passes_when_filled(tmp_path, capsys):
    lab = tmp_path / "lab"
    code, out, err = run_cli(capsys, "lab", "new", str(lab))
    assert code == 0 and "start with" in out
    assert sorted(p.name for p in lab.glob("*.*")) == sorted(STUBS)
    notebooks = sorted(p.name for p in (lab / "notebooks").iterdir())
    assert notebooks and notebooks == sorted(n.removeprefix("notebooks/") for n in handout.notebook_files())
    code, out, err = run_cli(capsys, "lab", "check", "--all", str(lab))
    assert code == 1, err
    assert out.count("hint: not written yet") == len(checks.EXERCISES)
    assert f"0/{len(checks.EXERCISES)} exercises pass" in out
    for name in checks.EXERCISES:
        (lab / f"{name}.py").write_text(fill(STUBS[f"{name}.py"], SOLUTIONS[name]))
    code, out, err = run_cli(capsys, "lab", "check", "--all", str(lab), "--json")
    assert code == 0, out + err
    report = json.loads(out)
    total = sum(len(e.checks) for e in checks.EXERCISES.values())
    assert report["score"] == sum(t["max_score"] for t in report["tests"]) == total
    assert all(t["status"] == "passed" and t["extra_data"]["relative_error"] <= 1e-6 for t in report["tests"])
    assert main(["lab", "new", str(lab)]) == 2   # never over a student's work


@pytest.mark.slow
def test_check_json_reports_a_gradescope_score_per_check_and_the_mistake(tmp_path, capsys, monkeypatch):
    bodies = with_mistake("adam", "update", '(v_hat.sqrt() + group["eps"])', '(v_hat + group["eps"]).sqrt()')
    (tmp_path / "adam.py").write_text(fill(STUBS["adam.py"], bodies))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "lab", "check", "adam", "--json")   # --path defaults to adam.py
    assert code == 1
    tests = json.loads(out)["tests"]
    assert [t["max_score"] for t in tests] == [1.0] * 4
    failed = [t for t in tests if t["status"] == "failed"]
    assert failed and all(t["score"] == 0 and t["extra_data"]["mistake"] == "eps_inside_sqrt" for t in failed)
    assert all("inside the square root" in t["output"] for t in failed)
    # Gradescope's keys only: our extras are under each test's extra_data
    assert set(json.loads(out)) <= {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
    assert all(set(t) <= {"score", "max_score", "name", "number", "output", "tags", "visibility", "extra_data",
                          "status"} for t in tests)


@pytest.mark.slow
def test_files_that_do_not_import_are_bad_input_shown_as_the_students_line(tmp_path, capsys):
    broken = STUBS["adam.py"].replace('raise NotImplementedError("TODO: update")', "m = beta1 * (m +", 1)
    (tmp_path / "adam.py").write_text(broken)
    (tmp_path / "momentum.py").write_text("import numpy_that_is_not_there\n")
    (tmp_path / "adagrad.py").write_text("class Adagrd:\n    pass\n")
    (tmp_path / "rmsprop.py").write_text(fill(STUBS["rmsprop.py"], SOLUTIONS["rmsprop"]))
    code, out, err = run_cli(capsys, "lab", "check", "--all", str(tmp_path))
    assert code == 2
    assert "Traceback" not in err + out
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "m = beta1 * (m +" in text)
    assert f"SyntaxError: '(' was never closed (at adam.py line {line}: m = beta1 * (m +)" in err, err
    assert "ModuleNotFoundError: No module named 'numpy_that_is_not_there' (at momentum.py line 1" in err
    assert "defines no Adagrad" in err
    assert "rmsprop (rmsprop.py): RMSProp" in out and "4/4 checks passed" in out


@pytest.mark.parametrize("argv, message", [
    (["lab", "check", "adma", "--path", "x.py"], "did you mean 'adam'"),
    (["lab", "check", "adam", "--path", "/nonexistent/adam.py"], "no such file"),
    (["lab", "check", "--all", "/nonexistent"], "not a directory"),
    (["lab", "check"], "give either EXERCISE"),
])
def test_bad_usage_exits_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_an_endless_loop_or_an_exit_is_stopped_and_located_and_the_next_file_is_still_graded(tmp_path):
    looping = with_mistake("momentum", "update", 'param -= state["update"]',
                           'while True:\n    param -= 0 * state["update"]')
    exiting = with_mistake("nesterov", "update", "param -= group", "import os\nos._exit(3)\nparam -= group")
    pairs = [write(tmp_path, "momentum.py", fill(STUBS["momentum.py"], looping)),
             write(tmp_path, "nesterov.py", fill(STUBS["nesterov.py"], exiting)),
             write(tmp_path, "adagrad.py", fill(STUBS["adagrad.py"], SOLUTIONS["adagrad"]))]
    stuck, ended, fine = grader.grade(pairs, seconds=3)
    assert stuck.stopped and not stuck.passed
    line = next(i for i, text in enumerate(pairs[0][1].read_text().splitlines(), 1) if "while True" in text)
    assert f"still running after 3 s at momentum.py line {line + 1} in update()" in feedback.hints(stuck)[0]
    assert not ended.passed and "ended the grader's process (exit status 3" in feedback.hints(ended)[0]
    assert fine.passed
    assert grader.exit_code([stuck, ended, fine]) == 1
