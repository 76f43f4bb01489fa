"""infer: device discovery (absent plugins simulated), IR accuracy against PyTorch, CLI errors."""

import json

import numpy as np
import pytest
import torch

from descentlab import infer
from descentlab.cli import main
from descentlab.errors import UserError
from descentlab.infer.devices import check_device
from tests.infer_cases import digits, export_dir, trained_mlp


@pytest.fixture(scope="module")
def model():
    return trained_mlp()


@pytest.fixture(scope="module")
def exported(tmp_path_factory, model):
    return export_dir(tmp_path_factory.mktemp("export"), model)


# ---- devices -------------------------------------------------------------------------------

class FakeCore:
    """A Core with a CPU, a GPU whose plugin fails on every query, and an NPU plugin that cannot load."""

    available_devices = ["CPU", "GPU.0"]

    def get_property(self, device, name):
        if device == "GPU.0":
            raise RuntimeError('Exception from src/inference/src/cpp/core.cpp:268:\n'
                               'Cannot load library "/opt/libs/libopenvino_intel_gpu_plugin.so": '
                               'libOpenCL.so.1: cannot open shared object file\n\n')
        properties = {"FULL_DEVICE_NAME": "Fake CPU", "OPTIMIZATION_CAPABILITIES": ["FP32", "INT8", "EXPORT_IMPORT"],
                      "SUPPORTED_PROPERTIES": ["FULL_DEVICE_NAME", "OPTIMIZATION_CAPABILITIES",
                                               "INFERENCE_PRECISION_HINT"],
                      "INFERENCE_PRECISION_HINT": "f32"}
        if name not in properties:  # what OpenVINO does for a property the device does not have
            raise RuntimeError(f"Exception from core.cpp:1:\nUnsupported property {name} by CPU plugin\n")
        return properties[name]

    def get_versions(self, device):
        raise RuntimeError(f"Exception from core.cpp:77:\nDevice with \"{device}\" name is not registered\n")


def test_real_core_lists_cpu_gpu_npu_and_auto():
    found = {d["name"]: d for d in infer.devices()}
    assert {"CPU", "NPU", "AUTO"} <= set(found) and any(n.startswith("GPU") for n in found)
    cpu = found["CPU"]
    assert cpu["available"] and cpu["full_name"] and "fp32" in cpu["precisions"] and cpu["reason"] is None
    for name, entry in found.items():
        assert entry["available"] == (entry["reason"] is None), name
    assert list(found)[-1] == "AUTO" and found["AUTO"]["available"]


def test_failing_plugins_are_listed_with_their_reason():
    found = {d["name"]: d for d in infer.devices(FakeCore())}
    assert found["CPU"]["available"] and found["CPU"]["full_name"] == "Fake CPU"
    assert found["CPU"]["precisions"] == ["fp32", "int8"]
    assert (found["CPU"]["default_execution"], found["CPU"]["executions"]) == ("f32", ["f32"])
    gpu, npu = found["GPU.0"], found["NPU"]
    assert not gpu["available"] and "libOpenCL.so.1" in gpu["reason"] and "\n" not in gpu["reason"]
    assert (gpu["default_execution"], gpu["executions"]) == (None, [])
    assert not npu["available"] and "not registered" in npu["reason"]
    assert found["AUTO"]["name"] == "AUTO"


def test_core_that_cannot_list_devices_gives_all_unavailable():
    class Broken(FakeCore):
        @property
        def available_devices(self):
            raise RuntimeError("plugins.xml is corrupt")

    found = infer.devices(Broken())
    assert [d["name"] for d in found] == ["CPU", "GPU", "NPU", "AUTO"]
    assert not any(d["available"] for d in found)


@pytest.mark.parametrize("name, accepted", [
    ("CPU", "CPU"), ("cpu", "CPU"), ("AUTO", "AUTO"), ("AUTO:CPU", "AUTO:CPU"), ("HETERO:CPU", "HETERO:CPU")])
def test_present_device_names_are_accepted(name, accepted):
    assert check_device(name, FakeCore()) == accepted


@pytest.mark.parametrize("name, missing", [("NPU", "NPU"), ("GPU", "GPU"), ("GPU.1", "GPU.1"),
                                           ("AUTO:GPU,CPU", "GPU"), ("TPU", "TPU")])
def test_absent_device_is_a_user_error_naming_what_is_here(name, missing):
    with pytest.raises(UserError) as error:
        check_device(name, FakeCore())
    assert str(error.value) == f"device '{missing}' is not available here (available: CPU)"


# ---- evaluate ------------------------------------------------------------------------------

@pytest.mark.slow
def test_fp32_ir_scores_like_pytorch(exported, model):
    x, y = digits()
    x, y = x[1200:], y[1200:]
    result = infer.evaluate(exported / "model_fp32.xml", x, y, batch_size=50)  # 597 = 11 x 50 + 47
    with torch.inference_mode():
        logits = model(torch.from_numpy(x))
    predicted = logits.argmax(1).numpy()
    assert result["accuracy"] == pytest.approx(float(np.mean(predicted == y)), abs=1e-12)
    assert result["accuracy"] > 0.8
    assert result["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, torch.from_numpy(y)).item(),
                                           rel=1e-5)
    expected = np.zeros((10, 10), dtype=int)
    for truth, guess in zip(y, predicted):
        expected[truth, guess] += 1
    assert result["confusion"] == expected.tolist()
    assert (result["n"], result["device"], result["precision"]) == (597, "CPU", "fp32")


@pytest.mark.slow
def test_fp16_ir_and_auto_device_stay_close(exported, model):
    x, y = digits()
    fp32 = infer.evaluate(exported / "model_fp32.xml", x, y)
    # AUTO picks the CPU here and must keep its FP32 precision (not the bf16 default of AVX512-BF16 CPUs).
    auto = infer.evaluate(exported / "model_fp32.xml", x, y, device="AUTO")
    assert auto["loss"] == pytest.approx(fp32["loss"], rel=1e-6)
    fp16 = infer.evaluate(exported / "model_fp16.xml", x, y, device="AUTO")
    assert fp16["precision"] == "fp16" and fp16["device"] == "AUTO"
    assert abs(fp16["accuracy"] - fp32["accuracy"]) <= 2 / len(y)


@pytest.mark.slow
def test_static_padded_batches_match_pytorch(exported, model):
    """The NPU path (static batch, last batch padded), run on the CPU."""
    from descentlab.infer.evaluate import predict
    from descentlab.infer.runtime import compile_model, read_model

    x = digits()[0][:103]
    ir = read_model(exported / "model_fp32.xml")
    ir.reshape([25, 1, 8, 8])
    compiled, execution = compile_model(ir, "CPU")
    assert execution == {"CPU": "f32"}
    outputs = predict(compiled, x, 25, pad=True)
    with torch.inference_mode():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_bad_inputs_raise_one_line_errors(exported, tmp_path):
    x, y = digits()
    with pytest.raises(ValueError, match="do not fit the model, which expects 1x8x8"):
        infer.evaluate(exported / "model_fp32.xml", x[:, :, :4], y)
    corrupt = tmp_path / "model_fp32.xml"
    corrupt.write_text("<net><layers>")
    corrupt.with_suffix(".bin").write_bytes(b"\0" * 8)
    with pytest.raises(ValueError, match="not a readable OpenVINO IR") as error:
        infer.evaluate(corrupt, x, y)
    assert "\n" not in str(error.value)
    with pytest.raises(FileNotFoundError):
        infer.evaluate(tmp_path / "missing.xml", x, y)


# ---- descentlab infer / devices ------------------------------------------------------------

@pytest.mark.slow
def test_cli_infer_on_a_compare_directory_writes_infer_json(exported, tmp_path, capsys):
    from descentlab.train import datasets

    compare = tmp_path / "compare"
    run = compare / "adam-seed0"
    run.mkdir(parents=True)
    for f in exported.iterdir():
        if f.suffix in (".xml", ".bin", ".json"):
            (run / f.name).write_bytes(f.read_bytes())
    (compare / "results.json").write_text(json.dumps(
        {"dataset": "digits", "runs": [{"optimizer": "adam", "seed": 0, "torch": {"test_accuracy": 0.5}}]}))
    assert main(["infer", str(compare), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((compare / "infer.json").read_text())
    assert printed == written and list(written["runs"]["adam-seed0"]) == ["fp32", "native", "fp16"]
    test = datasets.load("digits").test
    direct = infer.evaluate(run / "model_fp32.xml", test.x, test.y)
    fp32 = written["runs"]["adam-seed0"]["fp32"]
    assert fp32["accuracy"] == direct["accuracy"] and fp32["n"] == len(test.y)
    assert fp32["delta"] == pytest.approx(direct["accuracy"] - 0.5)


@pytest.mark.slow
def test_a_run_directory_takes_its_torch_accuracy_from_run_json(exported, tmp_path):
    run = tmp_path / "adam-seed0"
    run.mkdir()
    for f in exported.iterdir():
        if f.suffix in (".xml", ".bin", ".json"):
            (run / f.name).write_bytes(f.read_bytes())
    (run / "run.json").write_text(json.dumps({"torch": {"test_accuracy": 0.25}}))
    fp32 = infer.evaluate_path(run)["runs"]["adam-seed0"]["fp32"]
    assert fp32["torch_accuracy"] == 0.25
    assert fp32["delta"] == pytest.approx(fp32["accuracy"] - 0.25)


def _exit_and_error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.mark.slow
def test_cli_bad_device_shape_and_corrupt_ir_exit_2(exported, tmp_path, capsys):
    code, err = _exit_and_error(["infer", str(exported / "model_fp32.xml"), "--device", "NPU"], capsys)
    assert code == 2 and err == ("descentlab infer: error: device 'NPU' is not available here "
                                 "(available: CPU)")
    code, err = _exit_and_error(["infer", str(exported / "model_fp32.xml"), "--dataset", "blobs2d"], capsys)
    assert code == 2 and "do not fit the model" in err and "\n" not in err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model_fp32.xml").write_bytes(b"\x00not xml")
    (bad / "model_fp32.bin").write_bytes(b"")
    code, err = _exit_and_error(["infer", str(bad / "model_fp32.xml"), "--dataset", "digits"], capsys)
    assert code == 2 and "not a readable OpenVINO IR" in err and "\n" not in err
    code, err = _exit_and_error(["infer", str(tmp_path / "nowhere"), "--dataset", "digits"], capsys)
    assert code == 2 and "does not exist" in err


def test_cli_devices_json_and_table(capsys):
    assert main(["devices", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"name", "available", "full_name", "capabilities", "precisions", "default_execution", "executions",
            "reason"} <= set(listed[0])
    assert main(["devices"]) == 0
    table = capsys.readouterr().out
    assert "NPU" in table and "AUTO" in table and "default" in table and "computes in" in table
