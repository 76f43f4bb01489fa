"""``--tensorboard DIR`` of train and compare: the event files hold the documented
tags, read back with TensorBoard's own reader, with the numbers of the run; a
missing ``tensorboard`` package is one clear line and exit 2, before any work."""

import json
import math
import shutil
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from descentlab import compare
from descentlab.cli import main
from descentlab.train import datasets

TRAIN = ["train", "--dataset", "digits", "--model", "logreg", "--epochs", "2", "--batch-size", "256",
         "--quiet"]


def scalars(directory):
    """{tag: [(step, value)]} of the run directory, as TensorBoard reads it."""
    events = EventAccumulator(str(directory))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_train_logs_every_step_and_epoch(tmp_path):
    assert main([*TRAIN, "--optimizer", "adam", "--lr", "0.003", "--out", str(tmp_path / "run"),
                 "--tensorboard", str(tmp_path / "tb")]) == 0
    history = json.loads((tmp_path / "run" / "run.json").read_text())["history"]
    logged = scalars(tmp_path / "tb" / "adam-seed0")
    steps = len(history["step_loss"])
    assert steps == 2 * math.ceil(len(datasets.load("digits").train) / 256)  # 2 epochs of batches of 256
    assert set(logged) == {"train/loss", "train/lr", "train/momentum", "val/loss", "val/accuracy"}
    assert [s for s, _ in logged["train/loss"]] == list(range(1, steps + 1))
    assert [v for _, v in logged["train/loss"]] == pytest.approx(history["step_loss"], rel=1e-6)
    assert [v for _, v in logged["train/lr"]] == pytest.approx([0.003] * steps)
    assert [v for _, v in logged["train/momentum"]] == pytest.approx([0.9] * steps)   # Adam's beta1
    assert [s for s, _ in logged["val/accuracy"]] == [steps // 2, steps]
    assert [v for _, v in logged["val/accuracy"]] == pytest.approx(history["val_accuracy"], rel=1e-6)
    assert [v for _, v in logged["val/loss"]] == pytest.approx(history["val_loss"], rel=1e-6)


def test_scheduled_lr_and_momentum_are_logged_as_they_change(tmp_path):
    """Exponential decay (gamma 0.5 per epoch) with SGD momentum 0.9; Adagrad has no momentum tag."""
    assert main([*TRAIN, "--optimizer", "momentum", "--lr", "0.1", "--schedule", "exponential",
                 "--schedule-option", "gamma=0.5", "--out", str(tmp_path / "run"),
                 "--tensorboard", str(tmp_path / "tb")]) == 0
    logged = scalars(tmp_path / "tb" / "momentum-seed0")
    lrs = [v for _, v in logged["train/lr"]]
    half = len(lrs) // 2
    assert lrs == pytest.approx([0.1] * half + [0.05] * half)
    assert [v for _, v in logged["train/momentum"]] == pytest.approx([0.9] * len(lrs))
    assert main([*TRAIN, "--optimizer", "adagrad", "--out", str(tmp_path / "ada"),
                 "--tensorboard", str(tmp_path / "tb")]) == 0
    assert "train/momentum" not in scalars(tmp_path / "tb" / "adagrad-seed0")


@pytest.mark.slow
def test_compare_logs_one_directory_per_run_with_the_openvino_accuracy(tmp_path):
    results = compare.run(tmp_path / "c", tensorboard=tmp_path / "tb", dataset="digits", model="logreg",
                          optimizers=("sgd", "adam"), epochs=1, batch_size=256, seeds=(0, 1),
                          precisions=("fp32",))
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == \
        ["adam-seed0", "adam-seed1", "sgd-seed0", "sgd-seed1"]
    for run in results["runs"]:
        logged = scalars(tmp_path / "tb" / f"{run['optimizer']}-seed{run['seed']}")
        steps = len(run["history"]["step_loss"])
        assert len(logged["train/loss"]) == steps and len(logged["val/accuracy"]) == 1
        assert logged["openvino/fp32/test_accuracy"] == [
            (steps, pytest.approx(run["openvino"]["fp32"]["test_accuracy"], rel=1e-6))]
    assert (tmp_path / "c" / "report.html").is_file()


@pytest.mark.slow
def test_compare_resumes_with_tensorboard_from_a_directory_written_without_it(tmp_path, capsys):
    args = ["compare", "--model", "logreg", "--optimizers", "sgd", "--epochs", "1", "--seeds", "0",
            "--precisions", "none", "--quiet", "--out", str(tmp_path / "c")]
    assert main(args) == 0
    assert "tensorboard" not in json.loads((tmp_path / "c" / "compare.json").read_text())
    shutil.rmtree(tmp_path / "c" / "sgd-seed0")  # as if killed in its first epoch
    assert main(["compare", "--resume", "--out", str(tmp_path / "c"), "--quiet",
                 "--tensorboard", str(tmp_path / "tb")]) == 0
    assert "train/loss" in scalars(tmp_path / "tb" / "sgd-seed0")
    assert capsys.readouterr().out.rstrip().endswith(f"{tmp_path / 'c'}/report.html")


@pytest.mark.parametrize("command", [
    [*TRAIN, "--optimizer", "sgd", "--out", "{out}"],
    ["compare", "--model", "logreg", "--optimizers", "sgd", "--epochs", "1", "--seeds", "0",
     "--precisions", "none", "--quiet", "--out", "{out}"],
])
def test_missing_extra_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, command):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    out = tmp_path / "out"
    argv = [a.replace("{out}", str(out)) for a in command] + ["--tensorboard", str(tmp_path / "tb")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'descentlab[tensorboard]'" in err
    assert not (tmp_path / "tb").exists() and not (out / "checkpoint.pt").exists()
    assert not (out / "compare.json").exists()

