"""SIGKILL `descentlab compare` at random moments of every stage, resume, and get the
uninterrupted run's results; after every kill, no file of the output is half-written.

Each kill is exact rather than timed: the command line runs in a child of the fork
server (``forkserver.py``: a fresh process without the seconds of imports) with one
function wrapped so that its n-th call SIGKILLs the process (no cleanup, no
``finally``, like a power cut or the OOM killer). n is drawn at random for each
stage; the seed is in the test's name so a failure can be replayed.
"""

import json
import random
import signal
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest


SEED = 20261130
ARGS = ["compare", "--model", "logreg", "--optimizers", "sgd", "--epochs", "2", "--batch-size", "64",
        "--seeds", "0", "--precisions", "fp32,int8", "--quiet"]

# The kills in pipeline order, each at a random call of the function named. Every
# resumed process still has work of the next stage to do (an export killed is redone,
# and the report is rewritten on every resume), so every stage is hit.
# (stage, "module:attribute", the largest call number drawn)
KILLS = [
    ("training", "descentlab.train.run:_train_epoch", 2),            # epoch 1 or 2
    ("export", "descentlab.export.pipeline:to_openvino", 1),         # the ONNX file is in staging
    ("openvino evaluation", "descentlab.infer:evaluate", 2),         # fp32 or int8 scoring
    ("any file write", "os:replace", 12),                            # the rename of any write: export, run.json, ...
    ("report writing", "descentlab.compare.plots:_save", 5),         # one of the 5 figures
]

# Fields that legitimately differ between two runs of the same comparison: wall-clock
# seconds, the environment (thread count) of the process that wrote the summary, and
# whether the ONNX hop exported its graph or reused one its process kept (the same file).
TIMING_KEYS = {"train_seconds", "seconds_per_epoch", "seconds", "timings", "environment", "graph"}


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def assert_nothing_half_written(out):
    """Every file a reader would open is complete; temporary files are the only other kind."""
    import onnx
    import openvino as ov
    import torch

    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(out).parts):
            continue  # an atomic write's temporary file or an export's staging directory
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".png":
            data = path.read_bytes()
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82"), path
        elif path.suffix == ".md":
            assert "## Hyperparameters" in path.read_text(), path   # the report's last section
        elif path.suffix == ".html":
            assert path.read_text().endswith("</html>\n"), path
        elif path.suffix == ".pt":
            torch.load(path, weights_only=True)
        elif path.suffix == ".onnx":
            onnx.checker.check_model(onnx.load(path))
        elif path.suffix == ".xml":
            ElementTree.parse(path)
            ov.Core().read_model(path)  # also checks the .bin holds every weight the .xml names
        elif path.suffix == ".bin":
            assert path.with_suffix(".xml").is_file(), f"{path} without its .xml"
        else:
            pytest.fail(f"unexpected file {path}")


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_the_same_results(tmp_path, forkserver):
    rng = random.Random(SEED)
    out = tmp_path / "killed"
    # uninterrupted, in a process like the killed ones (the same threads, so the same rounding)
    reference = forkserver.run([*ARGS, "--out", str(tmp_path / "reference")], tmp_path)
    assert reference.returncode == 0, reference.stderr
    for number, (stage, target, calls) in enumerate(KILLS):
        nth = rng.randint(1, calls)
        argv = [*ARGS, "--out", str(out)] if number == 0 else ["compare", "--out", str(out), "--resume", "--quiet"]
        run = forkserver.run(argv, tmp_path, kill_at=(target, nth))
        assert run.returncode == -signal.SIGKILL, f"not killed during {stage} (call {nth}): {run.stderr}"
        assert_nothing_half_written(out)
    finished = forkserver.run(["compare", "--out", str(out), "--resume", "--quiet"], tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert_nothing_half_written(out)

    expected = json.loads((tmp_path / "reference" / "results.json").read_text())
    got = json.loads((out / "results.json").read_text())
    assert without_timing(got) == without_timing(expected)
    # the same files, and no temporary left behind by the kills
    files = [sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()) for d in (out, tmp_path / "reference")]
    assert files[0] == files[1]


def _children(pid):
    """PIDs of the live processes whose parent is ``pid`` (from /proc)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid):
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG are Linux's")
def test_workers_die_with_a_killed_comparison(tmp_path):
    """SIGKILL the comparison while its two worker processes train: they die too, instead of
    writing a run's files behind the back of the ``--resume`` that follows."""
    import time

    command = subprocess.Popen([sys.executable, "-m", "descentlab", "compare", "--model", "logreg",
                                "--optimizers", "sgd,adam,rprop,adagrad", "--epochs", "200", "--seeds", "0",
                                "--precisions", "none", "--workers", "2", "--out", str(tmp_path / "c"),
                                "--quiet"])
    deadline = time.monotonic() + 120
    workers = []
    while time.monotonic() < deadline and not (tmp_path / "c" / "sgd-seed0" / "checkpoint.pt").exists():
        time.sleep(0.2)
    workers = [pid for pid in _children(command.pid)
               if b"spawn_main" in open(f"/proc/{pid}/cmdline", "rb").read()]
    assert len(workers) == 2, "the comparison did not start two workers"
    command.kill()
    command.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)
