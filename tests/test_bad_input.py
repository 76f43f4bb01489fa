"""Bad input to every command: exit code 2, one line on stderr naming the problem
(and, where there is one, the fix), no traceback, and nothing already written changed.

One row of ``CASES`` per case: an id, the command line (``{name}`` is replaced by
a path of the workspace below), and a piece of the message it must print.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from descentlab.cli import main
from test_data import fake_idx_dataset, write_cifar_batch

TRAIN = ["train", "--dataset", "digits", "--model", "logreg", "--optimizer", "sgd", "--epochs", "1",
         "--quiet"]
COMPARE = ["compare", "--model", "logreg", "--optimizers", "sgd", "--epochs", "1", "--seeds", "0",
           "--precisions", "none", "--quiet"]
BENCH = ["bench", "-t", "0.05", "--batch", "4"]

CASES = [
    # ---- unknown names -------------------------------------------------------------------
    ("compare-unknown-optimizer", [*COMPARE, "--optimizers", "adma", "--out", "{new}"], "did you mean 'adam'"),
    ("compare-unknown-dataset", [*COMPARE, "--dataset", "fashion", "--out", "{new}"], "unknown dataset 'fashion'"),
    ("compare-unknown-model", [*COMPARE, "--model", "resnet", "--out", "{new}"], "unknown model 'resnet'"),
    ("compare-unknown-device", [*COMPARE, "--precisions", "fp32", "--device", "TPU", "--out", "{new}"], "TPU"),
    ("compare-absent-device", [*COMPARE, "--precisions", "fp32", "--device", "NPU", "--out", "{new}"],
     "not available here"),
    ("compare-unknown-precision", [*COMPARE, "--precisions", "fp8", "--out", "{new}"], "unknown precision 'fp8'"),
    ("compare-unknown-schedule", [*COMPARE, "--schedule", "cosine", "--out", "{new}"], "unknown schedule 'cosine'"),
    ("train-unknown-optimizer", [*TRAIN, "--optimizer", "adamm", "--out", "{new}"], "did you mean 'adam'"),
    ("train-unknown-model", [*TRAIN, "--model", "mpl", "--out", "{new}"], "did you mean 'mlp'"),
    ("train-unknown-schedule", [*TRAIN, "--schedule", "stepp", "--out", "{new}"], "did you mean 'step'"),
    ("export-unknown-precision", ["export", "{ckpt}", "--out", "{new}", "--precisions", "int4"],
     "unknown precision 'int4'"),
    ("infer-unknown-device", ["infer", "{export}", "--device", "GPU.7"], "GPU.7"),
    ("infer-unknown-dataset", ["infer", "{export}", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    ("bench-unknown-device", [*BENCH, "{export}", "--device", "FPGA"], "FPGA"),
    ("lab-unknown-landscape", ["lab", "trajectories", "--landscape", "rosenbrok", "--optimizers", "sgd",
                               "--out", "{new}"], "unknown landscape 'rosenbrok'"),
    ("lab-unknown-optimizer", ["lab", "trajectories", "--landscape", "rosenbrock", "--optimizers", "adma",
                               "--out", "{new}"], "did you mean 'adam'"),
    ("lab-unknown-experiment", ["lab", "run", "momentum-nesterov", "--out", "{new}"], "unknown experiment"),
    ("lab-unknown-model", ["lab", "hessian", "--dataset", "digits", "--model", "resnet"], "unknown model 'resnet'"),
    ("lab-unknown-exercise", ["lab", "check", "adma", "--path", "{file}"], "unknown exercise 'adma'"),
    ("lab-exercise-file-missing", ["lab", "check", "adam", "--path", "{nowhere}/adam.py"], "no such file"),
    ("lab-check-all-missing-dir", ["lab", "check", "--all", "{nowhere}"], "is not a directory"),
    ("lab-new-over-a-file", ["lab", "new", "{file}"], "not a directory"),
    ("lab-check-not-python", ["lab", "check", "adam", "--path", "{file}"], "SyntaxError: invalid syntax"),
    ("lab-check-class-missing", ["lab", "check", "adam", "--path", "{python}"], "defines no Adam"),
    ("lab-check-notebook-not-json", ["lab", "check", "adam", "--path", "{notebook}"],
     "lab.ipynb is not a valid notebook (Expecting ',' delimiter at line 1)"),
    ("lab-autograder-out-exists", ["lab", "autograder", "--out", "{compare}"], "already exists"),
    ("lab-autograder-out-is-a-file", ["lab", "autograder", "--out", "{file}"], "is an existing file"),
    # ---- malformed values ----------------------------------------------------------------
    ("compare-lr-without-value", [*COMPARE, "--lr", "sgd", "--out", "{new}"], "NAME=VALUE"),
    ("compare-lr-not-a-number", [*COMPARE, "--lr", "sgd=fast", "--out", "{new}"], "NAME=LR"),
    ("compare-lr-negative", [*COMPARE, "--lr", "sgd=-0.1", "--out", "{new}"], "LR > 0"),
    ("compare-lr-other-optimizer", [*COMPARE, "--lr", "adam=0.1", "--out", "{new}"], "not among"),
    ("compare-seeds-not-integers", [*COMPARE, "--seeds", "0,one", "--out", "{new}"], "integers separated by commas"),
    ("compare-seeds-repeated", [*COMPARE, "--seeds", "1,1", "--out", "{new}"], "repeated"),
    ("compare-model-option-unknown", [*COMPARE, "--model-option", "depth=3", "--out", "{new}"], "depth"),
    ("compare-model-option-malformed", [*COMPARE, "--model-option", "=3", "--out", "{new}"], "NAME=VALUE"),
    ("compare-schedule-option-unknown", [*COMPARE, "--schedule", "step", "--schedule-option", "gama=0.5",
                                         "--out", "{new}"], "unknown option gama"),
    ("train-hp-unknown", [*TRAIN, "--hp", "beta=0.9", "--out", "{new}"], "unknown hyperparameter beta"),
    ("train-hp-malformed", [*TRAIN, "--hp", "dampening", "--out", "{new}"], "NAME=VALUE"),
    ("train-hp-bad-value", [*TRAIN, "--optimizer", "adam", "--hp", "betas=(1.5, 0.9)", "--out", "{new}"], "beta"),
    ("train-lr-not-a-number", [*TRAIN, "--lr", "1e-3x", "--out", "{new}"], "expected a number"),
    ("train-model-option-bad-value", [*TRAIN, "--model", "mlp", "--model-option", "hidden=wide",
                                      "--out", "{new}"], "hidden"),
    ("export-max-accuracy-drop", ["export", "{ckpt}", "--out", "{new}", "--max-accuracy-drop", "5"], "fraction"),
    ("compare-target-accuracy", [*COMPARE, "--target-accuracy", "95", "--out", "{new}"], "target accuracy"),
    ("lab-start-malformed", ["lab", "trajectories", "--landscape", "rosenbrock", "--optimizers", "sgd",
                             "--start", "1", "--out", "{new}"], "expected X,Y"),
    ("lab-lr-malformed", ["lab", "trajectories", "--landscape", "rosenbrock", "--optimizers", "sgd",
                          "--lr", "sgd", "--out", "{new}"], "NAME=VALUE"),
    # ---- zero or negative counts and durations -----------------------------------------
    ("compare-train-precision-unknown", [*COMPARE, "--train-precision", "fp8", "--out", "{new}"], "invalid choice"),
    ("compare-epochs-zero", [*COMPARE, "--epochs", "0", "--out", "{new}"], "positive integer"),
    ("compare-tune-epochs-negative", [*COMPARE, "--tune-epochs", "-2", "--out", "{new}"], "positive integer"),
    ("compare-batch-zero", [*COMPARE, "--batch-size", "0", "--out", "{new}"], "positive integer"),
    ("compare-workers-zero", [*COMPARE, "--workers", "0", "--out", "{new}"], "positive integer"),
    ("compare-clip-negative", [*COMPARE, "--clip-norm", "-1", "--out", "{new}"], "> 0"),
    ("train-epochs-negative", [*TRAIN, "--epochs", "-1", "--out", "{new}"], "positive integer"),
    ("train-batch-negative", [*TRAIN, "--batch-size", "-8", "--out", "{new}"], "positive integer"),
    ("infer-batch-zero", ["infer", "{export}", "--batch-size", "0"], "positive integer"),
    ("bench-duration-zero", ["bench", "{export}", "-t", "0"], "positive"),
    ("bench-duration-negative", ["bench", "{export}", "-t", "-3"], "positive"),
    ("bench-batch-zero", [*BENCH, "{export}", "--batch", "0"], "positive integer"),
    ("bench-nireq-zero", [*BENCH, "{export}", "--nireq", "0"], "positive integer"),
    ("bench-threads-negative", [*BENCH, "{export}", "--threads", "-1"], "positive integer"),
    ("optimizers-unknown-flag", ["optimizers", "--jsn"], "unrecognized arguments: --jsn"),
    ("datasets-flag-without-value", ["datasets", "--data-dir"], "expected one argument"),
    ("devices-unknown-flag", ["devices", "--all"], "unrecognized arguments: --all"),
    ("lab-steps-zero", ["lab", "trajectories", "--landscape", "rosenbrock", "--optimizers", "sgd",
                        "--steps", "0", "--out", "{new}"], "positive integer"),
    # ---- output paths --------------------------------------------------------------------
    ("compare-out-is-a-file", [*COMPARE, "--out", "{file}"], "is an existing file"),
    ("train-out-is-a-file", [*TRAIN, "--out", "{file}"], "is an existing file"),
    ("export-out-is-a-file", ["export", "{ckpt}", "--out", "{file}"], "is an existing file"),
    ("bench-out-is-a-directory", [*BENCH, "{export}", "--out", "{export}"], "is a directory"),
    ("compare-out-unwritable", [*COMPARE, "--out", "{locked}/c"], "cannot write"),
    ("train-out-unwritable", [*TRAIN, "--out", "{locked}/t"], "cannot write"),
    ("export-out-unwritable", ["export", "{ckpt}", "--out", "{locked}/e"], "cannot write"),
    ("lab-trajectories-out-is-a-file", ["lab", "trajectories", "--landscape", "rosenbrock", "--optimizers", "sgd",
                                        "--out", "{file}"], "is an existing file"),
    ("lab-run-out-unwritable", ["lab", "run", "all", "--fast", "--out", "{locked}/l"], "cannot write"),
    ("compare-existing-comparison", [*COMPARE, "--out", "{compare}"], "--resume"),
    ("compare-resume-other-settings", ["compare", "--epochs", "2", "--out", "{compare}", "--resume"], "leave out --epochs"),
    # ---- --spread-from: an earlier comparison of the same setting, with other seeds ----------
    ("compare-spread-from-nothing", [*COMPARE, "--seeds", "1", "--spread-from", "{nowhere}", "--out", "{new}"],
     "no finished comparison there"),
    ("compare-spread-from-one-seed", [*COMPARE, "--seeds", "1", "--spread-from", "{compare}", "--out", "{new}"],
     "the seed-to-seed spread needs two or more"),
    ("compare-spread-from-other-setting", [*COMPARE, "--epochs", "2", "--seeds", "2", "--spread-from",
                                           "{compare2}", "--out", "{new}"], "epochs 1 there, 2 here"),
    ("compare-spread-from-same-seed", [*COMPARE, "--seeds", "1", "--spread-from", "{compare2}", "--out", "{new}"],
     "seed 1 is in that comparison already"),
    ("train-existing-checkpoint", [*TRAIN, "--out", "{run}"], "--resume"),
    # ---- dataset files ---------------------------------------------------------------------
    ("train-data-dir-missing", [*TRAIN, "--dataset", "mnist", "--data-dir", "{nowhere}", "--out", "{new}"],
     "does not exist"),
    ("train-dataset-file-missing", [*TRAIN, "--dataset", "mnist", "--data-dir", "{idx_missing}", "--out", "{new}"],
     "t10k-labels"),
    ("train-dataset-file-empty", [*TRAIN, "--dataset", "mnist", "--data-dir", "{idx_empty}", "--out", "{new}"],
     "train-images"),
    ("train-dataset-file-truncated", [*TRAIN, "--dataset", "mnist", "--data-dir", "{idx_truncated}",
                                      "--out", "{new}"], "train-images"),
    ("compare-dataset-file-corrupt", [*COMPARE, "--dataset", "mnist", "--data-dir", "{idx_corrupt}",
                                      "--out", "{new}"], "train-labels"),
    ("train-cifar-batch-corrupt", [*TRAIN, "--dataset", "cifar10", "--data-dir", "{cifar_corrupt}",
                                   "--out", "{new}"], "data_batch_3"),
    # ---- checkpoints -----------------------------------------------------------------------
    ("export-checkpoint-missing", ["export", "{nowhere}/checkpoint.pt", "--out", "{new}"], "does not exist"),
    ("export-checkpoint-empty", ["export", "{ckpt_empty}", "--out", "{new}"], "not a readable"),
    ("export-checkpoint-truncated", ["export", "{ckpt_truncated}", "--out", "{new}"], "not a readable"),
    ("export-checkpoint-corrupt", ["export", "{ckpt_corrupt}", "--out", "{new}"], "not a readable"),
    ("export-checkpoint-not-ours", ["export", "{ckpt_foreign}", "--out", "{new}"], "not a descentlab"),
    ("export-checkpoint-other-model", ["export", "{ckpt_other_model}", "--out", "{new}"],
     "do not fit the model it names, 'mlp'"),
    ("lab-hessian-corrupt-checkpoint", ["lab", "hessian", "--dataset", "digits", "--model", "logreg",
                                        "--checkpoint", "{ckpt_corrupt}"], "not a readable"),
    ("train-resume-corrupt-checkpoint", [*TRAIN, "--out", "{run_corrupt}", "--resume"], "not a readable"),
    # ---- ONNX and IR files -------------------------------------------------------------------
    ("infer-ir-missing", ["infer", "{nowhere}/model_fp32.xml"], "does not exist"),
    ("infer-xml-without-bin", ["infer", "{ir_nobin}", "--dataset", "digits"], "lacks its weights"),
    ("infer-bin-wrong-size", ["infer", "{ir_shortbin}", "--dataset", "digits"], "model_fp32"),
    ("infer-xml-empty", ["infer", "{ir_empty}", "--dataset", "digits"], "not a readable OpenVINO IR"),
    ("infer-xml-corrupt", ["infer", "{ir_corrupt}", "--dataset", "digits"], "not a readable OpenVINO IR"),
    ("infer-onnx-instead-of-ir", ["infer", "{export}/model.onnx", "--dataset", "digits"], "not an OpenVINO IR"),
    ("infer-ir-shape-does-not-fit", ["infer", "{export}/model_fp32.xml", "--dataset", "blobs2d"],
     "do not fit the model"),
    ("bench-xml-without-bin", [*BENCH, "{ir_nobin}"], "lacks its weights"),
    ("bench-onnx-empty", [*BENCH, "{onnx_empty}"], "not a readable ONNX model"),
    ("bench-onnx-truncated", [*BENCH, "{onnx_truncated}"], "not a readable ONNX model"),
]


def lock(directory):
    """Make ``directory`` unwritable, also for root (immutable attribute); False if impossible here."""
    directory.chmod(0o500)
    if os.access(directory, os.W_OK) and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
    try:
        (directory / "probe").touch()
    except OSError:
        return True
    (directory / "probe").unlink()
    return False


def unlock(directory):
    if shutil.which("chattr"):
        subprocess.run(["chattr", "-i", str(directory)], capture_output=True)
    directory.chmod(0o700)


def copy_dir(source, target, **changes):
    """A copy of ``source`` with some files replaced: name -> bytes (None deletes)."""
    shutil.copytree(source, target)
    for name, data in changes.items():
        path = target / name.replace("__", ".")
        path.unlink() if data is None else path.write_bytes(data)
    return target


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Earlier results (a run, its export, a comparison) and broken copies of each kind of file."""
    w = tmp_path_factory.mktemp("bad-input")
    paths = {"nowhere": w / "nowhere", "file": w / "notes.txt", "python": w / "helpers.py", "notebook": w / "lab.ipynb"}
    paths["file"].write_text("an existing file\n")
    paths["notebook"].write_text('{"cells": [{"cell_type": "code" "source": []}]}')   # a comma lost in an edit
    paths["python"].write_text("import torch\n\n\nclass Adamm:\n    pass\n")
    assert main([*TRAIN, "--out", str(w / "run")]) == 0
    assert main(["export", str(w / "run" / "checkpoint.pt"), "--out", str(w / "export"),
                 "--precisions", "fp32"]) == 0
    assert main([*COMPARE, "--out", str(w / "compare")]) == 0
    assert main([*COMPARE, "--seeds", "0,1", "--out", str(w / "compare2")]) == 0
    paths.update(run=w / "run", ckpt=w / "run" / "checkpoint.pt", export=w / "export", compare=w / "compare",
                 compare2=w / "compare2")

    good = (w / "run" / "checkpoint.pt").read_bytes()
    for name, data in {"empty": b"", "truncated": good[:len(good) // 2],
                       "corrupt": np.random.default_rng(0).bytes(4096)}.items():
        paths[f"ckpt_{name}"] = w / f"ckpt-{name}.pt"
        paths[f"ckpt_{name}"].write_bytes(data)
    paths["ckpt_foreign"] = w / "ckpt-foreign.pt"
    torch.save({"state_dict": {}}, paths["ckpt_foreign"])
    other = torch.load(w / "run" / "checkpoint.pt", weights_only=True)
    other["model"]["name"], other["model"]["kwargs"] = "mlp", {}   # logreg weights, mlp named
    paths["ckpt_other_model"] = w / "ckpt-other-model.pt"
    torch.save(other, paths["ckpt_other_model"])
    paths["run_corrupt"] = copy_dir(w / "run", w / "run-corrupt", checkpoint__pt=good[:100])

    xml = (w / "export" / "model_fp32.xml").read_bytes()
    weights = (w / "export" / "model_fp32.bin").read_bytes()
    ir = {"nobin": {"model_fp32.bin": None}, "shortbin": {"model_fp32.bin": weights[:len(weights) // 2]},
          "empty": {"model_fp32.xml": b""}, "corrupt": {"model_fp32.xml": xml[:len(xml) // 2]}}
    for name, changes in ir.items():
        copy_dir(w / "export", w / f"ir-{name}", **{k.replace(".", "__"): v for k, v in changes.items()})
        paths[f"ir_{name}"] = w / f"ir-{name}" / "model_fp32.xml"
    onnx = (w / "export" / "model.onnx").read_bytes()
    for name, data in {"empty": b"", "truncated": onnx[:len(onnx) // 2]}.items():
        paths[f"onnx_{name}"] = copy_dir(w / "export", w / f"onnx-{name}", model__onnx=data)

    fake_idx_dataset(w / "idx")
    train_images = (w / "idx" / "train-images-idx3-ubyte.gz").read_bytes()
    for name, changes in {"missing": {"t10k-labels-idx1-ubyte.gz": None},
                          "empty": {"train-images-idx3-ubyte.gz": b""},
                          "truncated": {"train-images-idx3-ubyte.gz": train_images[:len(train_images) // 3]},
                          "corrupt": {"train-labels-idx1-ubyte.gz": b"\x1f\x8b" + bytes(200)}}.items():
        paths[f"idx_{name}"] = copy_dir(w / "idx", w / f"idx-{name}",
                                        **{k.replace(".", "__"): v for k, v in changes.items()})
    cifar = w / "cifar"
    cifar.mkdir()
    for i in range(1, 6):
        write_cifar_batch(cifar / f"data_batch_{i}", np.zeros((4, 3072), np.uint8), range(4))
    write_cifar_batch(cifar / "test_batch", np.zeros((4, 3072), np.uint8), range(4))
    (cifar / "data_batch_3").write_bytes(b"\x80\x02}q\x00(X\x04")   # a pickle cut short
    paths["cifar_corrupt"] = cifar

    paths["locked"] = w / "locked"
    paths["locked"].mkdir()
    can_lock = lock(paths["locked"])
    yield paths, can_lock
    unlock(paths["locked"])


def snapshot(root):
    """Every file under ``root`` with the hash of its content."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


def exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:   # argparse's own usage errors
        return exc.code


@pytest.mark.slow
@pytest.mark.parametrize("argv,message", [pytest.param(argv, message, id=name) for name, argv, message in CASES])
def test_bad_input(argv, message, workspace, capsys, tmp_path):
    paths, can_lock = workspace
    paths = {**paths, "new": tmp_path / "out"}
    if "{locked}" in " ".join(argv) and not can_lock:
        pytest.fail("this machine cannot make a directory unwritable (no chmod effect, no chattr)")
    root = paths["file"].parent
    before = snapshot(root)
    capsys.readouterr()
    code = exit_code([a.format(**paths) for a in argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert message in lines[0], lines[0]
    assert snapshot(root) == before, "a failed command changed files already written"


def test_the_matrix_is_large_and_covers_every_command():
    from descentlab.cli import command_names

    assert len(CASES) >= 30
    assert len({name for name, _, _ in CASES}) == len(CASES)
    assert set(command_names()) <= {argv[0] for _, argv, _ in CASES}
