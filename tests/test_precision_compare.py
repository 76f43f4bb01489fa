"""`descentlab compare` with native/bf16 and --max-accuracy-drop: results.json, report and plot.

The numbers are checked against independent references: OpenVINO asked
directly for the precision it compiles in, scipy's binomial test on
per-example predictions recomputed here from the run's files.
"""

import json

import numpy as np
import openvino as ov
import pytest
from scipy import stats

from descentlab.cli import main
from descentlab.compare import report, settings
from descentlab.compare.runner import run_compare
from descentlab.compare.settings import CompareConfig
from descentlab.infer import precision
from descentlab.train import datasets

SMALL = CompareConfig(dataset="digits", model="logreg", optimizers=("adam",), epochs=1, batch_size=64,
                      seeds=(0,), precisions=("fp32", "native", "int8"), max_accuracy_drop=0.5)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "c"
    run_compare(SMALL, out, quiet=True)
    return out, json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_results_json_has_every_precision_field(compared):
    out, results = compared
    assert results["precisions"] == ["fp32", "native", "int8"] and results["max_accuracy_drop"] == 0.5
    run = results["runs"][0]
    xml = out / "adam-seed0" / "model_fp32.xml"
    default = ov.Core().compile_model(str(xml), "CPU").get_property("INFERENCE_PRECISION_HINT").get_type_name()
    native = run["openvino"]["native"]
    assert native["execution"] == {"CPU": default} and native["runs_in"] == f"{default} on CPU"
    assert native["same_as_fp32"] == (default == "f32")
    assert run["openvino"]["fp32"]["execution"] == {"CPU": "f32"}
    for name in ("fp32", "native", "int8"):
        entry = run["openvino"][name]
        assert {"test_accuracy", "test_loss", "delta_vs_torch", "mcnemar_p", "within_noise", "flips", "execution",
                "runs_in"} <= set(entry), name
        assert entry["delta_vs_torch"] == pytest.approx(entry["test_accuracy"] - run["torch"]["test_accuracy"])
    row = results["summary"][0]["openvino"]["native"]
    assert {"test_accuracy_mean", "delta_vs_torch_mean", "within_noise_runs", "tested_runs", "runs_in",
            "same_as_fp32"} <= set(row)
    assert row["runs_in"] == [native["runs_in"]] and row["tested_runs"] == 1
    int8 = run["openvino"]["export"]["int8"]
    assert int8["accuracy_control"] is True and int8["accuracy_control_needed"] is False  # 50 points is never lost
    assert int8["quantizers_reverted"] == 0 and int8["quantizers"] >= 1


@pytest.mark.slow
def test_mcnemar_verdict_matches_scipy_on_recomputed_predictions(compared):
    """INT8 against the PyTorch model, example by example, recomputed here from the run's files."""
    import torch

    from descentlab.train.checkpoint import load, rebuild_model

    out, results = compared
    run_dir = out / "adam-seed0"
    test = datasets.load("digits").test
    with torch.inference_mode():
        torch_right = rebuild_model(load(run_dir / "checkpoint.pt"))(test.x).argmax(1).numpy() == test.y.numpy()
    compiled = ov.Core().compile_model(str(run_dir / "model_int8.xml"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    int8_right = compiled(test.x.numpy())[0].argmax(1) == test.y.numpy()
    lost, gained = int(np.sum(torch_right & ~int8_right)), int(np.sum(~torch_right & int8_right))
    entry = results["runs"][0]["openvino"]["int8"]
    assert entry["flips"] == {"right_to_wrong": lost, "wrong_to_right": gained}
    expected = stats.binomtest(lost, lost + gained, 0.5).pvalue if lost + gained else 1.0
    assert entry["mcnemar_p"] == pytest.approx(expected)
    assert entry["within_noise"] == (expected >= 0.05)


@pytest.mark.slow
def test_report_and_plot_show_native_and_what_it_ran_in(compared):
    out, results = compared
    text = (out / "report.md").read_text()
    native = results["runs"][0]["openvino"]["native"]["runs_in"]
    assert f"| optimizer | PyTorch | FP32 | NATIVE ({native}) | INT8 |" in text
    assert ("the native column equals FP32" in text) == results["runs"][0]["openvino"]["native"]["same_as_fp32"]
    assert "INT8 accuracy control (at most 50 points of validation accuracy lost): no run needed it." in text
    assert "within noise" in text or "beyond noise" in text
    assert (out / "openvino.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _entry(accuracy, delta, within, runs_in, same):
    return {"test_accuracy_mean": accuracy, "test_accuracy_std": 0.0, "delta_vs_torch_mean": delta,
            "within_noise_runs": int(within), "tested_runs": 1, "runs_in": [runs_in], "same_as_fp32": same,
            "vs_fp32": {"difference": delta, "p_value": 1.0 if within else 0.001, "within_noise": within}}


def test_report_on_a_bf16_cpu_where_accuracy_control_was_needed():
    """What a comparison on an AVX512-BF16 machine reports: native ran in bf16 and lost accuracy."""
    results = {
        "precisions": ["fp32", "native", "int8"], "max_accuracy_drop": 0.01, "device": "CPU",
        "significance": {"alpha": 0.05},
        "summary": [{"optimizer": "rprop", "test_accuracy_mean": 0.90, "test_accuracy_std": 0.0,
                     "openvino": {"fp32": _entry(0.90, 0.0, True, "f32 on CPU", None),
                                  "native": _entry(0.85, -0.05, False, "bf16 on CPU", False),
                                  "int8": _entry(0.89, -0.01, True, "f32 on CPU", None)}}],
        "runs": [{"optimizer": "rprop", "seed": 0, "openvino": {"export": {"int8": {
            "accuracy_control_needed": True, "quantizers": 3, "quantizers_reverted": 2}}}},
                 {"optimizer": "rprop", "seed": 1, "openvino": {"export": {"int8": {
                     "accuracy_control_needed": False, "quantizers": 5, "quantizers_reverted": 0}}}}],
    }
    text = report.openvino_section(results)
    assert "| NATIVE (bf16 on CPU) |" in text
    assert "0.8500 (-5.00, beyond noise)" in text and "0.9000 (+0.00, within noise)" in text
    assert "equals FP32" not in text
    assert "was needed by rprop seed 0 (2 of 5 quantizers reverted); 1 other run stayed within it" in text


@pytest.mark.parametrize("argv, message", [
    (["--precisions", "fp32", "--max-accuracy-drop", "0.01"], "add int8 to --precisions"),
    (["--max-accuracy-drop", "1.5"], "the maximum accuracy drop is a fraction"),
    (["--dataset", "sigmoid2", "--model", "neuron", "--max-accuracy-drop", "0.01"], "needs a classification dataset"),
    (["--precisions", "fp32,fp8"], "unknown precision 'fp8'"),
])
def test_bad_precision_options_exit_2_before_training(argv, message, tmp_path, capsys):
    code = main(["compare", "--optimizers", "sgd", "--epochs", "1", "--quiet", "--out", str(tmp_path / "c"), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err
    assert not (tmp_path / "c").exists()


def test_bf16_without_it_stops_compare_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(precision, "execution_precisions", lambda device, ov_core=None: ["f32"])
    code = main(["compare", "--optimizers", "sgd", "--epochs", "1", "--precisions", "fp32,bf16", "--quiet",
                 "--out", str(tmp_path / "c")])
    assert code == 2 and "CPU cannot compute in bf16 here" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_default_comparison_deploys_native_and_compare_offers_every_precision():
    assert CompareConfig().precisions == ("fp32", "native", "fp16", "int8")
    assert settings.PRECISIONS == precision.PRECISIONS
