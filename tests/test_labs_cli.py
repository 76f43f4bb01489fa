"""``descentlab lab``: every action end to end, and bad input as one line with exit 2."""

import json

import pytest

from descentlab.cli import main


def test_landscapes_and_list_as_json(capsys):
    assert main(["lab", "landscapes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "cliff", "neuron", "sparse"} <= \
        {r["name"] for r in rows}
    assert main(["lab", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 11


def test_trajectories_writes_its_files(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["lab", "trajectories", "--landscape", "quadratic", "--optimizers", "sgd,momentum",
                 "--steps", "30", "--start=-2,1", "--lr", "sgd=2.5", "--lr", "momentum=0.1",
                 "--no-gif", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sgd (lr=2.5): diverged" in printed
    saved = json.loads((out / "trajectories.json").read_text())
    assert saved["start"] == [-2.0, 1.0]
    assert [p["diverged"] for p in saved["paths"]] == [True, False]
    assert (out / "trajectories.png").is_file() and not (out / "trajectories.gif").exists()


def test_run_one_experiment_writes_figure_json_and_readme(tmp_path, capsys):
    out = tmp_path / "clip"
    assert main(["lab", "run", "clipping", "--out", str(out), "--fast"]) == 0
    assert "clipping: claim holds" in capsys.readouterr().out
    result = json.loads((out / "result.json").read_text())
    assert result["claim_holds"] and result["lecture"].startswith("lecture 003")
    for figure in result["figures"]:
        assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    readme = (out / "README.md").read_text()
    assert result["claim"] in readme and "lecture 003" in readme and "clipping.png" in readme


def test_hessian_prints_the_numbers(capsys):
    assert main(["lab", "hessian", "--dataset", "sigmoid2", "--model", "neuron", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["parameters"] == 2 and r["method"] == "exact"
    assert r["lambda_max"] == pytest.approx(r["lambda_max_power"], rel=1e-6)
    assert r["lr_bound"] == pytest.approx(2 / r["lambda_max"])
    assert main(["lab", "hessian", "--dataset", "sigmoid2", "--model", "neuron"]) == 0
    printed = capsys.readouterr().out
    for name in ("lambda_max", "lambda_min", "kappa", "alpha*", "2/lambda_max"):
        assert name in printed


def test_hessian_explains_an_infinite_kappa_and_a_long_alpha_star(capsys):
    assert main(["lab", "hessian", "--dataset", "digits", "--model", "logreg", "--samples", "256"]) == 0
    printed = capsys.readouterr().out
    assert "kappa          inf: " in printed and "directions of eigenvalue 0" in printed
    assert "softmax shift" in printed and "inputs equal in every example" in printed
    assert "kappa over the positive eigenvalues" in printed
    assert "alpha* > 2/lambda_max" in printed and "the best step along g" in printed


@pytest.mark.parametrize("argv, message", [
    (["lab", "run", "nope", "--out", "X"], "unknown experiment 'nope'"),
    (["lab", "trajectories", "--landscape", "rosenbrok", "--optimizers", "sgd", "--out", "X"],
     "did you mean 'rosenbrock'"),
    (["lab", "trajectories", "--landscape", "rosenbrock", "--optimizers", "sgd", "--start", "5,5", "--out", "X"],
     "outside the 'rosenbrock' frame"),
    (["lab", "trajectories", "--landscape", "rosenbrock", "--optimizers", "sgd", "--start", "nan,1", "--out", "X"],
     "not finite"),
    (["lab", "trajectories", "--landscape", "beale", "--optimizers", "sgd,adma", "--out", "X"],
     "did you mean 'adam'"),
    (["lab", "hessian", "--dataset", "digits", "--model", "lenett"], "unknown model"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "X").exists()


def test_bad_start_syntax_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["lab", "trajectories", "--landscape", "beale", "--optimizers", "sgd", "--start", "1", "--out", "X"])
    assert exit_info.value.code == 2
    assert "expected X,Y" in capsys.readouterr().err
