"""`descentlab compare`: the documented outputs, resume after a kill, divergence,
bad input -> exit 2, and the OpenVINO stage end to end."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from descentlab import io
from descentlab.cli import main
from descentlab.compare import report
from descentlab.compare import pool
from descentlab.compare import task as task_module
from descentlab.train import run as run_module
from descentlab.compare.runner import run_compare
from descentlab.compare.summary import summarise
from descentlab.compare.settings import CompareConfig

SMALL = CompareConfig(dataset="digits", model="logreg", optimizers=("sgd", "adam", "rprop"),
                      epochs=2, batch_size=64, seeds=(0,), precisions=())


def numbers(results):
    """Everything in results.json but wall-clock times."""
    out = []
    for r in results["runs"]:
        h = r["history"]
        out.append((r["optimizer"], r["seed"], h["step_loss"], h["train_loss"], h["val_loss"],
                    h["val_accuracy"], r["torch"], r["diverged"]))
    return out


@pytest.mark.slow
def test_outputs_are_the_documented_ones(tmp_path):
    # in this process: the worker processes are test_parallel_workers_give_the_same_numbers' subject
    results = run_compare(dataclasses.replace(SMALL, seeds=(0, 1), workers=1), tmp_path / "c", quiet=True)
    saved = json.loads((tmp_path / "c" / "results.json").read_text())
    assert saved["dataset"] == "digits" and saved["model"] == "logreg" and saved["epochs"] == 2
    assert saved["device"] == "CPU"
    assert len(saved["runs"]) == 6
    for run in saved["runs"]:
        assert {"optimizer", "seed", "hparams", "diverged", "history", "torch", "openvino",
                "train_seconds"} <= set(run)
        assert {"train_loss", "val_accuracy"} <= set(run["history"])
        assert {"test_accuracy", "test_loss"} <= set(run["torch"])
        assert (tmp_path / "c" / f"{run['optimizer']}-seed{run['seed']}" / "checkpoint.pt").is_file()
    accs = [row["test_accuracy_mean"] for row in saved["summary"]]
    assert accs == sorted(accs, reverse=True)
    sgd = next(row for row in saved["summary"] if row["optimizer"] == "sgd")
    per_seed = [r["torch"]["test_accuracy"] for r in saved["runs"] if r["optimizer"] == "sgd"]
    assert sgd["test_accuracy_mean"] == pytest.approx(sum(per_seed) / 2)
    report = (tmp_path / "c" / "report.md").read_text()
    assert report.index("| 1 | " + saved["summary"][0]["optimizer"]) < report.index("| 3 | ")
    for png in ("loss.png", "accuracy.png", "loss_time.png", "final_accuracy.png"):
        assert (tmp_path / "c" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({png})" in report
    assert results["summary"] == saved["summary"]


@pytest.mark.slow
def test_killed_comparison_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    uninterrupted = run_compare(SMALL, tmp_path / "a", quiet=True)

    real_save = run_module._save

    def killed_after_adam_epoch_1(path, config, *args):
        real_save(path, config, *args)
        if config.optimizer == "adam" and args[-2] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "_save", killed_after_adam_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        run_compare(SMALL, tmp_path / "b", quiet=True)
    assert (tmp_path / "b" / "sgd-seed0" / "run.json").is_file()
    assert not (tmp_path / "b" / "adam-seed0" / "run.json").exists()
    monkeypatch.undo()

    trained = []
    real_train = task_module.train_run

    def counting(config, *args, **kw):
        trained.append(config.optimizer)
        return real_train(config, *args, **kw)

    monkeypatch.setattr(task_module, "train_run", counting)
    resumed = run_compare(SMALL, tmp_path / "b", resume=True, quiet=True)
    assert trained == ["adam", "rprop"]  # sgd was finished and is not redone
    assert numbers(resumed) == numbers(uninterrupted)


@pytest.mark.slow
def test_divergence_is_kept_and_the_comparison_goes_on(tmp_path):
    cfg = dataclasses.replace(SMALL, model="mlp", optimizers=("sgd", "adam"), lr={"sgd": 1e4})
    results = run_compare(cfg, tmp_path / "d", quiet=True)
    runs = {r["optimizer"]: r for r in results["runs"]}
    assert runs["sgd"]["diverged"] and runs["sgd"]["diverged_epoch"] == 1
    assert not runs["adam"]["diverged"] and runs["adam"]["torch"]["test_accuracy"] > 0.8
    text = (tmp_path / "d" / "results.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)
    assert "Diverged: sgd" in (tmp_path / "d" / "report.md").read_text()


@pytest.mark.slow
def test_tune_lr_picks_the_best_of_the_grid(tmp_path):
    cfg = dataclasses.replace(SMALL, optimizers=("sgd",), tune_lr=True, tune_epochs=1)
    results = run_compare(cfg, tmp_path / "t", quiet=True)
    tuning = results["tuning"]["sgd"]
    lrs = [t["lr"] for t in tuning["trials"]]
    assert {1e-4, 1e-3, 1e-2, 1e-1, 1.0} <= set(lrs) and len(lrs) == 7
    best = max((t for t in tuning["trials"] if t["score"] is not None),
               key=lambda t: (t["score"], -t["val_loss"]))
    assert tuning["best_lr"] == best["lr"]
    assert results["runs"][0]["hparams"]["lr"] == best["lr"]


@pytest.mark.slow
def test_openvino_stage_fills_every_precision(tmp_path):
    cfg = dataclasses.replace(SMALL, model="mlp", optimizers=("adam",), epochs=3,
                              precisions=("fp32", "fp16", "int8"))
    results = run_compare(cfg, tmp_path / "o", quiet=True)
    run = results["runs"][0]
    torch_acc = run["torch"]["test_accuracy"]
    assert run["openvino"]["fp32"]["test_accuracy"] == pytest.approx(torch_acc, abs=1e-9)
    assert abs(run["openvino"]["fp16"]["test_accuracy"] - torch_acc) <= 0.01
    assert abs(run["openvino"]["int8"]["test_accuracy"] - torch_acc) <= 0.03
    for name in ("model.onnx", "model_fp32.xml", "model_fp16.bin", "model_int8.xml", "manifest.json"):
        assert (tmp_path / "o" / "adam-seed0" / name).is_file()
    assert (tmp_path / "o" / "openvino.png").is_file()
    report = (tmp_path / "o" / "report.md").read_text()
    assert "INT8" in report and "Export check" in report
    fp32_delta = run["openvino"]["export"]["hops"][2]
    assert fp32_delta["stage"] == "ir-fp32" and fp32_delta["max_abs_diff"] <= 1e-4


@pytest.mark.slow
def test_the_speed_levers_leave_every_number_as_it_was(tmp_path, monkeypatch):
    """The ONNX graph reused from the run before, native not scored again where it is pinned f32,
    the IRs not scored on the validation split: the same numbers as with none of that."""
    from descentlab import export, infer
    from descentlab.export import onnx_export

    cfg = dataclasses.replace(SMALL, optimizers=("sgd", "adam"), precisions=("fp32", "native", "fp16", "int8"),
                              workers=1)
    monkeypatch.setattr(onnx_export, "_GRAPHS", {})
    fast = run_compare(cfg, tmp_path / "fast", quiet=True)
    monkeypatch.setattr(onnx_export, "_GRAPHS", {})
    monkeypatch.setattr(onnx_export, "_GRAPHS_KEPT", 0)
    monkeypatch.setattr(infer, "default_execution", lambda device, ov_core=None: None)
    real_export = export.export_checkpoint
    monkeypatch.setattr(export, "export_checkpoint", lambda *a, **k: real_export(*a, **{**k, "score": True}))
    slow = run_compare(cfg, tmp_path / "slow", quiet=True)

    def deployed_numbers(results):
        return [(r["optimizer"], {p: {k: r["openvino"][p][k] for k in ("test_accuracy", "test_loss", "test_correct",
                                                                      "execution", "within_noise")}
                                  for p in cfg.precisions},
                 [h["max_abs_diff"] for h in r["openvino"]["export"]["hops"]]) for r in results["runs"]]

    assert numbers(fast) == numbers(slow)
    assert deployed_numbers(fast) == deployed_numbers(slow)
    untimed = [[{k: v for k, v in row.items() if k != "seconds_per_epoch"} for row in results["summary"]]
               for results in (fast, slow)]
    assert untimed[0] == untimed[1]
    graphs = [[h.get("graph") for h in r["openvino"]["export"]["hops"] if h["stage"] == "onnx"][0]
              for results in (fast, slow) for r in results["runs"]]
    assert graphs == ["exported", "reused", "exported", "exported"]
    # native taken from fp32 where the CPU computes an FP32 IR in f32 (no bf16 units); scored where it runs bf16
    from descentlab.infer import precision as ov_precision

    taken = "fp32" if infer.default_execution("CPU") == ov_precision.PINNED else None
    assert [r["openvino"]["native"].get("scored_as") for r in fast["runs"] + slow["runs"]] == [taken] * 2 + [None] * 2
    assert all(h["val_accuracy"] is None for h in fast["runs"][0]["openvino"]["export"]["hops"])
    assert slow["runs"][0]["openvino"]["export"]["hops"][2]["val_accuracy"] is not None


def exit_code(argv):
    """descentlab's exit code; argparse's own usage errors exit through SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.slow
def test_a_failed_export_is_reported_and_the_comparison_goes_on(tmp_path, monkeypatch):
    from descentlab import export

    real = export.export_checkpoint

    def failing_for_sgd(checkpoint, out_dir, **kw):
        if "sgd-seed0" in str(out_dir):
            raise ValueError("ONNX Runtime differs from PyTorch by 1 (> 0.0001)")
        return real(checkpoint, out_dir, **kw)

    monkeypatch.setattr(export, "export_checkpoint", failing_for_sgd)
    cfg = dataclasses.replace(SMALL, optimizers=("sgd", "adam"), epochs=1, precisions=("fp32",))
    results = run_compare(cfg, tmp_path / "f", quiet=True)
    runs = {r["optimizer"]: r for r in results["runs"]}
    assert "export failed" in runs["sgd"]["openvino"]["skipped"]
    assert runs["adam"]["openvino"]["fp32"]["test_accuracy"] == pytest.approx(runs["adam"]["torch"]["test_accuracy"])
    assert "export failed" in (tmp_path / "f" / "report.md").read_text()


@pytest.mark.parametrize("argv,message", [
    (["--optimizers", "adma"], "did you mean 'adam'"),
    (["--lr", "adam=-1"], "LR > 0"),
    (["--lr", "nadam=0.1", "--optimizers", "adam"], "not among"),
    (["--batch-size", "zero"], "positive integer"),
    (["--dataset", "fashion-mnist", "--data-dir", "EMPTY"], "train-images"),
    (["--dataset", "nope"], "unknown dataset"),
    (["--device", "NPU"], "not available here"),
    (["--precisions", "fp8"], "unknown precision"),
])
def test_bad_input_exits_2_with_one_line(argv, message, tmp_path, capsys):
    argv = [str(tmp_path) if a == "EMPTY" else a for a in argv]
    assert exit_code(["compare", "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "x" / "results.json").exists()


def test_resume_needs_out(capsys, tmp_path):
    assert exit_code(["compare", "--resume"]) == 2
    assert "--out" in capsys.readouterr().err
    assert exit_code(["compare", "--resume", "--out", str(tmp_path)]) == 2
    assert "no comparison to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_resume_continues_with_the_saved_settings(tmp_path, monkeypatch, capsys):
    argv = ["compare", "--model", "logreg", "--optimizers", "sgd,adam", "--epochs", "2", "--seeds", "0",
            "--batch-size", "64", "--precisions", "none", "--quiet", "--out", str(tmp_path / "c")]
    real_save = run_module._save

    def killed(path, config, *args):
        real_save(path, config, *args)
        if config.optimizer == "adam":
            raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "_save", killed)
    assert exit_code(argv) == 130
    monkeypatch.undo()
    # Only --out and --resume: the rest comes from compare.json.
    assert exit_code(["compare", "--out", str(tmp_path / "c"), "--resume", "--quiet"]) == 0
    results = json.loads((tmp_path / "c" / "results.json").read_text())
    assert results["model"] == "logreg" and results["epochs"] == 2
    assert [r["optimizer"] for r in results["runs"]] == ["sgd", "adam"]


@pytest.mark.slow
def test_parallel_workers_give_the_same_numbers(tmp_path):
    """Same runs, same order; only float rounding differs (one torch thread per worker
    instead of two changes the order of summation inside matmuls)."""
    cfg = dataclasses.replace(SMALL, optimizers=("sgd", "adam"))
    serial = run_compare(cfg, tmp_path / "one", quiet=True)
    parallel = run_compare(dataclasses.replace(cfg, workers=2), tmp_path / "two", quiet=True)
    for a, b in zip(serial["runs"], parallel["runs"]):
        assert (a["optimizer"], a["seed"]) == (b["optimizer"], b["seed"])
        assert b["history"]["step_loss"] == pytest.approx(a["history"]["step_loss"], rel=1e-4)
        assert abs(b["torch"]["test_accuracy"] - a["torch"]["test_accuracy"]) <= 1 / 359
        # each worker on its own half of the cores, with as many torch threads as it has cores
        cores = sorted(os.sched_getaffinity(0))
        halves = [cores[:len(cores) // 2], cores[len(cores) // 2:]]
        assert b["trained_on"]["cores"] in halves
        assert b["trained_on"]["threads"] == len(b["trained_on"]["cores"])
        assert a["trained_on"]["cores"] == cores
    assert parallel["environment"]["workers"] == 2


@pytest.mark.parametrize("workers,runs,cores,expected", [
    (None, 51, 2, 2), (None, 4, 2, 2), (None, 3, 2, 1), (None, 2, 2, 1), (None, 1, 2, 1),
    (None, 51, 8, 8), (None, 9, 8, 4), (3, 1, 2, 3), (1, 51, 2, 1)])
def test_automatic_workers_one_per_core_with_two_runs_each(workers, runs, cores, expected, monkeypatch):
    monkeypatch.setattr(pool, "usable_cores", lambda: cores)
    assert pool.worker_count(workers, runs) == expected
    assert pool.worker_count(None, runs, ranks=2) == 1     # under torchrun a rank is one process


def test_each_worker_gets_its_own_share_of_the_cores(monkeypatch):
    monkeypatch.setattr(pool.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 5})
    assert [pool.worker_cores(i, 2) for i in range(2)] == [{0, 1}, {2, 3, 5}]
    assert [pool.worker_cores(i, 5) for i in range(5)] == [{0}, {1}, {2}, {3}, {5}]
    assert pool.worker_cores(0, 6) == set()     # more workers than cores: no pinning


def test_runs_are_handed_out_longest_first_over_every_seed():
    config = CompareConfig(optimizers=("sgd", "linesearch", "adam"), seeds=(0, 1, 2), epochs=5)
    tasks = [task_module.Task(config=config.run_config(name, seed), run_dir="", device="CPU", precisions=(),
                              data=None, max_accuracy_drop=None, tensorboard=None)
             for seed in config.seeds for name in config.names]
    order = [(tasks[i].config.optimizer, tasks[i].config.seed) for i in pool._longest_first(tasks)]
    assert order == [("linesearch", 0), ("linesearch", 1), ("linesearch", 2),
                     *((name, seed) for seed in (0, 1, 2) for name in ("sgd", "adam"))]
    # 4 candidate forward passes at a third of a step each: 5 epochs cost 5 * (1 + 4/3)
    assert pool.estimated_cost(tasks[1].config) == pytest.approx(5 * 7 / 3)
    assert pool.estimated_cost(tasks[0].config) == 5
    wide = dataclasses.replace(tasks[1].config, hparams={"lrs": (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)})
    armijo = dataclasses.replace(tasks[1].config, hparams={"method": "armijo"})
    assert pool.estimated_cost(wide) > pool.estimated_cost(tasks[1].config) > pool.estimated_cost(armijo) > 5


@pytest.mark.slow
def test_existing_comparison_is_not_overwritten(tmp_path, capsys):
    run_compare(dataclasses.replace(SMALL, optimizers=("sgd",), epochs=1), tmp_path / "c", quiet=True)
    before = (tmp_path / "c" / "results.json").read_text()
    assert main(["compare", "--out", str(tmp_path / "c"), "--optimizers", "sgd", "--epochs", "1"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (tmp_path / "c" / "results.json").read_text() == before


@pytest.mark.slow
def test_cli_prints_the_table_and_help_is_fast(tmp_path, forkserver):
    out = forkserver.run(["compare", "--optimizers", "sgd,adam", "--model", "logreg", "--epochs", "1",
                          "--precisions", "none", "--seeds", "0", "--out", str(tmp_path / "c")], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "| 1 |" in out.stdout and "report:" in out.stdout
    help_run = subprocess.run([sys.executable, "-X", "importtime", "-m", "descentlab", "--help"],
                              capture_output=True, text=True, timeout=60)
    assert help_run.returncode == 0
    assert " torch" not in help_run.stderr.replace("|", " ")  # no torch import at start-up


# ---- statistics: summarise() on hand-made runs whose per-example hits are known ----

TEST_SIZE = 359


def hits(wrong):
    """Per-example correctness on the digits test set with the examples in ``wrong`` missed."""
    correct = [True] * TEST_SIZE
    for i in wrong:
        correct[i] = False
    return correct


def fake_run(optimizer, seed, correct, best_epoch=10, openvino=None):
    acc = sum(correct) / len(correct)
    return {"optimizer": optimizer, "seed": seed, "hparams": {"lr": 0.1}, "diverged": False,
            "diverged_epoch": None,
            "history": {"step_loss": [1.0], "train_loss": [1.0], "val_loss": [0.5], "val_accuracy": [acc],
                        "lr": [0.1], "seconds": [1.0], "initial_val_loss": 2.0, "initial_val_accuracy": 0.1},
            "torch": {"test_accuracy": acc, "test_loss": 1 - acc, "test_correct": io.pack_bools(correct)},
            "best_epoch": best_epoch, "seconds_per_epoch": 1.0, "openvino": openvino or {}}


def test_one_seed_near_tie_names_no_winner_and_equal_accuracies_share_a_rank(tmp_path):
    """The case of a real default run: the leader two test images ahead of the runner-up,
    three optimizers with the same accuracy. One seed compares networks, never optimizers."""
    records = [fake_run("linesearch", 0, hits(range(12))),
               fake_run("adadelta", 0, hits(range(2, 16))),
               *(fake_run(n, 0, hits(range(25))) for n in ("sgd", "adam", "nadam")),
               fake_run("rprop", 0, hits(range(60)))]
    config = CompareConfig(optimizers=tuple(r["optimizer"] for r in records), seeds=(0,), precisions=())
    results = summarise(config, records)
    verdict = results["significance"]
    assert verdict["winner"] is None and verdict["tied"] == ["linesearch", "adadelta"]
    # linesearch alone gets examples 12..15 right, adadelta alone 0..1: 4 vs 2 discordant, p = 2 * 22/64
    assert verdict["p_values"]["adadelta"] == pytest.approx(2 * 22 / 64)
    ranks = {row["optimizer"]: row["rank"] for row in results["summary"]}
    assert ranks == {"linesearch": 1, "adadelta": 2, "sgd": 3, "adam": 3, "nadam": 3, "rprop": 6}
    assert verdict["one_seed"] == ["adadelta", "sgd", "adam", "nadam", "rprop"]
    text = report.headline(results)
    assert "One seed names no winner" in text and "wins" not in text and "McNemar" in text
    assert "differs beyond test-set noise from sgd's" in text and "not from adadelta's" in text
    assert "--seeds 0,1,2" in text and "--spread-from" in text
    table = report.torch_table(results)
    assert "| adadelta (within noise) |" in table and "(tied)" not in table
    assert "| 3 | sgd |" in table and "| 3 | adam |" in table and "| 10 |" in table and "10.0" not in table
    json.dumps(results, allow_nan=False)


def test_one_seed_names_no_winner_even_far_ahead_of_every_other_network():
    """The issue's report said "nadam wins ... McNemar's exact test, every p <= 0.011" on one
    seed: McNemar says the networks differ, not that the optimizer is better."""
    records = [fake_run("nadam", 0, hits(range(10))), fake_run("adam", 0, hits(range(40))),
               fake_run("sgd", 0, hits(range(60)))]
    results = summarise(CompareConfig(optimizers=("nadam", "adam", "sgd"), seeds=(0,), precisions=()), records)
    verdict = results["significance"]
    assert all(p < 1e-6 for p in verdict["p_values"].values())   # both networks differ beyond noise
    assert verdict["winner"] is None and verdict["tied"] == ["nadam"]
    assert verdict["one_seed"] == ["adam", "sgd"] and "--seeds" in verdict["advice"]
    text = report.headline(results)
    assert "wins" not in text and "One seed names no winner: **nadam**" in text
    assert "differs beyond test-set noise from adam's" in text and "not the optimizers" in text
    saved = json.loads(json.dumps(results, allow_nan=False))
    assert saved["significance"]["winner"] is None and saved["significance"]["advice"]


def test_the_fastest_to_the_target_that_falls_back_is_said_to_fall_back():
    """The default run's report said "Fastest to 94 %: rprop (1 epoch)" of an optimizer that ended
    last at 0.878: reaching the target first is news only with where the optimizer ends."""
    records = []
    for seed in range(2):
        rprop, adam = fake_run("rprop", seed, hits(range(80)), best_epoch=1), fake_run("adam", seed, hits(range(10)))
        rprop["history"]["val_accuracy"] = [0.95, 0.80]
        adam["history"]["val_accuracy"] = [0.60, 0.96]
        records += [rprop, adam]
    config = CompareConfig(optimizers=("rprop", "adam"), seeds=(0, 1), precisions=(), target_accuracy=0.94)
    text = report.headline(summarise(config, records))
    final = (TEST_SIZE - 80) / TEST_SIZE
    assert f"Fastest to 94 % validation accuracy: **rprop** (1 epoch), which does not stay there: " \
           f"its final test accuracy is {final:.4f} (best epoch 1)" in text
    assert "2 of 2 optimizers get there." in text

    records = [r for r in records if r["optimizer"] == "adam"]
    config = CompareConfig(optimizers=("adam",), seeds=(0, 1), precisions=(), target_accuracy=0.94)
    text = report.headline(summarise(config, records))
    assert "**adam** (2 epochs); 1 of 1 optimizers get there." in text and "does not stay" not in text


def test_several_seeds_name_a_winner_only_when_every_seed_agrees():
    records = []
    for seed in range(3):
        records += [fake_run("adam", seed, hits(range(seed, seed + 5))),
                    fake_run("sgd", seed, hits(range(seed + 20 + 3 * seed))),
                    fake_run("rmsprop", seed, hits(range(30, 40 + seed)))]
    config = CompareConfig(optimizers=("adam", "sgd", "rmsprop"), precisions=())
    results = summarise(config, records)
    assert results["significance"]["winner"] == "adam"
    assert results["significance"]["test"] == "paired t-test over seeds"
    assert results["significance"]["one_seed"] == [] and results["significance"]["advice"] is None
    adam = results["summary"][0]
    assert adam["ci_over"] == "seeds"
    low, high = adam["test_accuracy_ci"]
    assert low < adam["test_accuracy_mean"] < high
    assert "**adam** wins" in report.headline(results)

    # the runner-up ahead on one seed: no winner any more
    records[1] = fake_run("sgd", 0, hits(range(3)))
    results = summarise(config, records)
    assert results["significance"]["winner"] is None and "sgd" in results["significance"]["tied"]


def test_int8_differences_within_test_set_noise_are_marked():
    def run(optimizer, int8_wrong):
        fp32 = hits(range(10))
        return fake_run(optimizer, 0, fp32, openvino={
            "fp32": {"test_accuracy": sum(fp32) / TEST_SIZE, "test_correct": io.pack_bools(fp32)},
            "int8": {"test_accuracy": 1 - len(int8_wrong) / TEST_SIZE,
                     "test_correct": io.pack_bools(hits(int8_wrong))}})

    records = [run("adam", range(12)),          # 2 more images wrong: noise
               run("rprop", range(40))]         # 30 more wrong, none fixed: p = 2 / 2^30
    config = CompareConfig(optimizers=("adam", "rprop"), seeds=(0,), precisions=("fp32", "int8"))
    results = summarise(config, records)
    rows = {row["optimizer"]: row["openvino"]["int8"]["vs_fp32"] for row in results["summary"]}
    assert rows["adam"]["within_noise"] is True and rows["adam"]["p_value"] == pytest.approx(0.5)
    assert rows["rprop"]["within_noise"] is False and rows["rprop"]["p_value"] == pytest.approx(2 / 2 ** 30)
    assert rows["rprop"]["difference"] == pytest.approx(-30 / TEST_SIZE)
    section = report.openvino_section(results)
    assert "-0.56 (noise)" in section and "-8.36 (p = 2e-09)" in section


@pytest.mark.slow
def test_quiet_on_a_terminal_prints_the_summary_and_nothing_else(tmp_path, forkserver):
    """On a pseudo-terminal our progress line and NNCF's rich progress bars would show;
    --quiet leaves the headline, the table and the paths."""
    import os
    import pty
    import threading

    argv = ["compare", "--model", "logreg", "--optimizers", "sgd", "--epochs", "1", "--seeds", "0",
            "--precisions", "fp32,int8", "--quiet", "--out", "c"]
    master, terminal = pty.openpty()
    chunks = []

    def drain():
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every copy of the terminal's other end is closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        status = forkserver.run(argv, tmp_path, tty=os.ttyname(terminal)).returncode
    finally:
        os.close(terminal)
        reader.join(timeout=60)
        os.close(master)
    assert status == 0, b"".join(chunks).decode()
    lines = [line for line in b"".join(chunks).decode().splitlines() if line.strip()]
    assert (tmp_path / "c" / "sgd-seed0" / "model_int8.xml").is_file()   # NNCF did run
    assert lines[0].startswith("sgd wins") and lines[-1].startswith("report: c/report.md")
    assert all(line.startswith("|") for line in lines[1:-1]), lines


@pytest.mark.slow
def test_a_comparison_saved_before_a_setting_existed_resumes(tmp_path, capsys):
    """A compare.json written before a setting was added (here train_device and
    max_accuracy_drop) resumes with those settings' defaults; one with a setting
    this version does not know is a clear error."""
    out = tmp_path / "c"
    config = dataclasses.replace(SMALL, optimizers=("sgd",), epochs=1)
    first = run_compare(config, out, quiet=True)
    saved = json.loads((out / "compare.json").read_text())
    for key in ("train_device", "max_accuracy_drop"):
        del saved[key]
    io.write_json(out / "compare.json", saved)
    (out / "results.json").unlink()
    assert exit_code(["compare", "--out", str(out), "--resume", "--quiet"]) == 0
    assert numbers(json.loads((out / "results.json").read_text())) == numbers(first)

    io.write_json(out / "compare.json", {**saved, "from_the_future": 1})
    assert exit_code(["compare", "--out", str(out), "--resume", "--quiet"]) == 2
    assert "written by another version" in capsys.readouterr().err
