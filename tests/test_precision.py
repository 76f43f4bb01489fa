"""Execution precision: native (the device's default) and bf16 beside pinned f32.

What descentlab records is checked against OpenVINO asked directly (a plain
``ov.Core().compile_model`` and its ``INFERENCE_PRECISION_HINT``); a CPU with
and without bf16 is simulated by replacing the capability read, and the real
path of this machine's CPU is run as it is, whichever it has.
"""

import json

import numpy as np
import openvino as ov
import pytest
import torch

from descentlab import infer
from descentlab.cli import main
from descentlab.compare.deployed import versus_torch
from descentlab.errors import UserError

from descentlab.infer import precision
from descentlab.train import datasets
from tests.infer_cases import digits, export_dir, trained_mlp

HINT = "INFERENCE_PRECISION_HINT"


@pytest.fixture(scope="module")
def model():
    return trained_mlp()


@pytest.fixture(scope="module")
def exported(tmp_path_factory, model):
    return export_dir(tmp_path_factory.mktemp("precision"), model)


def openvino_default(xml, device="CPU"):
    """The precision OpenVINO itself compiles ``xml`` in with nothing pinned."""
    return ov.Core().compile_model(str(xml), device).get_property(HINT).get_type_name()


def has_bf16():
    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class FakeCore:
    """Devices as OpenVINO reports them on other machines: an AVX512-BF16 CPU, a GPU
    (f16 by default), and an NPU that lists FP16 only and has no INFERENCE_PRECISION_HINT."""

    available_devices = ["CPU", "GPU", "NPU"]
    PROPERTIES = {
        "CPU": {"OPTIMIZATION_CAPABILITIES": ["FP32", "BF16", "INT8", "EXPORT_IMPORT"], HINT: ov.Type.bf16,
                "FULL_DEVICE_NAME": "Fake Xeon"},
        "GPU": {"OPTIMIZATION_CAPABILITIES": ["FP32", "FP16", "INT8"], HINT: ov.Type.f16,
                "FULL_DEVICE_NAME": "Fake Arc"},
        "NPU": {"OPTIMIZATION_CAPABILITIES": ["FP16", "INT8"], "FULL_DEVICE_NAME": "Fake NPU"},
        "AUTO": {"OPTIMIZATION_CAPABILITIES": ["FP32", "FP16", "INT8"], "FULL_DEVICE_NAME": "Auto"},
    }

    def get_property(self, device, name):
        properties = self.PROPERTIES[device]
        if name == "SUPPORTED_PROPERTIES":
            return list(properties)
        if name not in properties:
            raise RuntimeError(f"Exception from core.cpp:1:\nUnsupported property {name} by {device} plugin\n")
        return properties[name]


class FakeAutoCompiled:
    """A model compiled by AUTO: it runs on the CPU and, like OpenVINO's, does not report HINT."""

    def get_property(self, name):
        if name == "EXECUTION_DEVICES":
            return ["CPU"]
        raise RuntimeError(f"AUTO: not supported property {name}")


# ---- what the device says --------------------------------------------------------------

@pytest.mark.slow
def test_default_and_supported_execution_precisions_are_openvinos(exported):
    core = ov.Core()
    assert infer.default_execution("CPU") == core.get_property("CPU", HINT).get_type_name()
    assert infer.default_execution("CPU") == openvino_default(exported / "model_fp32.xml")
    capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    expected = [{"FP32": "f32", "BF16": "bf16", "FP16": "f16"}[c] for c in capabilities if c in ("FP32", "BF16", "FP16")]
    assert infer.execution_precisions("CPU") == expected
    cpu = next(d for d in infer.devices() if d["name"] == "CPU")
    assert (cpu["default_execution"], cpu["executions"]) == (infer.default_execution("CPU"), expected)


def test_every_device_is_read_the_same_way():
    """One query, the device as parameter: the CPU's bf16, the GPU's f16, and an NPU that reports none."""
    core = FakeCore()
    assert [infer.default_execution(d, core) for d in ("CPU", "GPU", "NPU")] == ["bf16", "f16", None]
    assert [infer.execution_precisions(d, core) for d in ("CPU", "GPU", "NPU")] == [
        ["f32", "bf16"], ["f32", "f16"], ["f16"]]
    listed = {d["name"]: d for d in infer.devices(core)}
    assert listed["GPU"]["default_execution"] == "f16" and listed["NPU"]["default_execution"] is None


def test_compile_settings_per_precision_and_device():
    core = FakeCore()
    assert precision.compile_settings("fp32", "CPU", core) == {HINT: "f32"}
    assert precision.compile_settings("int8", "GPU", core) == {HINT: "f32"}
    assert precision.compile_settings("native", "GPU", core) == {}
    assert precision.compile_settings("bf16", "CPU", core) == {HINT: "bf16"}
    # the NPU cannot compute in f32: nothing pinned, the recorded precision then says what ran
    assert precision.compile_settings("fp32", "NPU", core) == {}
    assert precision.compile_settings("fp32", "AUTO:GPU,CPU", core) == {
        "DEVICE_PROPERTIES": {"GPU": {HINT: "f32"}, "CPU": {HINT: "f32"}}}
    with pytest.raises(UserError, match="GPU cannot compute in bf16 here"):
        precision.compile_settings("bf16", "AUTO:GPU,CPU", core)
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        precision.compile_settings("fp8", "CPU", core)
    assert [precision.ir_precision(p) for p in precision.PRECISIONS] == ["fp32", "fp32", "fp32", "fp16", "int8"]


def test_auto_execution_is_what_each_device_was_told_or_its_default():
    core = FakeCore()
    pinned = precision.compile_settings("fp32", "AUTO", core)
    assert precision.execution_of(FakeAutoCompiled(), pinned, "AUTO", core) == {"CPU": "f32"}
    assert precision.execution_of(FakeAutoCompiled(), {}, "AUTO", core) == {"CPU": "bf16"}
    assert precision.describe({"GPU": "f16", "CPU": "f32"}) == "f16 on GPU, f32 on CPU"


# ---- what really ran -------------------------------------------------------------------

@pytest.mark.slow
def test_recorded_execution_matches_what_openvino_reports(exported):
    x, y = digits()
    xml = exported / "model_fp32.xml"
    native = infer.evaluate(xml, x, y, precision="native")
    fp32 = infer.evaluate(xml, x, y)
    pinned = ov.Core().compile_model(str(xml), "CPU", {HINT: ov.Type.f32}).get_property(HINT).get_type_name()
    assert native["execution"] == {"CPU": openvino_default(xml)}
    assert fp32["execution"] == {"CPU": pinned} == {"CPU": "f32"}
    assert (native["precision"], fp32["precision"]) == ("native", "fp32")
    auto = infer.evaluate(xml, x, y, device="AUTO", precision="native")
    assert auto["execution"] == {"CPU": openvino_default(xml)}


@pytest.mark.slow
def test_this_cpu_native_and_bf16_as_they_really_are(exported):
    """Whichever CPU runs this: with bf16, native is bf16 and bf16 runs; without, native is f32,
    scores exactly like pinned fp32, and bf16 is refused in one line."""
    x, y = digits()
    xml = exported / "model_fp32.xml"
    native = infer.evaluate(xml, x, y, precision="native", examples=True)
    fp32 = infer.evaluate(xml, x, y, examples=True)
    if has_bf16():
        assert native["execution"] == {"CPU": "bf16"}
        assert infer.evaluate(xml, x, y, precision="bf16")["execution"] == {"CPU": "bf16"}
        assert abs(native["accuracy"] - fp32["accuracy"]) <= 5 / len(y)
    else:
        assert native["execution"] == {"CPU": "f32"} and precision.same_as_pinned(native["execution"])
        assert native["loss"] == fp32["loss"] and np.array_equal(native["correct"], fp32["correct"])
        with pytest.raises(UserError) as error:
            infer.evaluate(xml, x, y, precision="bf16")
        assert "CPU cannot compute in bf16 here" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_bf16_on_a_cpu_without_it_is_one_line_and_exit_2(exported, monkeypatch, capsys):
    """Simulated: this CPU may have bf16, so its capability read answers as an AVX2 CPU's would."""
    monkeypatch.setattr(precision, "execution_precisions", lambda device, ov_core=None: ["f32"])
    code = main(["infer", str(exported), "--precisions", "bf16"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == ("descentlab infer: error: CPU cannot compute in bf16 here (it computes in f32); "
                                 "use the precision native (the device's default) or fp32")
    code = main(["bench", str(exported), "--precisions", "fp32,bf16", "-t", "0.02"])
    assert code == 2 and "CPU cannot compute in bf16 here" in capsys.readouterr().err


@pytest.mark.slow
def test_absent_gpu_and_npu_are_one_clear_line(exported, capsys):
    for device in ("GPU", "NPU"):
        code = main(["infer", str(exported), "--device", device, "--precisions", "native"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err == (f"descentlab infer: error: device '{device}' is not available here "
                                     "(available: CPU)")
    code = main(["bench", str(exported), "--device", "GPU", "--precisions", "native", "-t", "0.02"])
    assert code == 2 and "device 'GPU' is not available here" in capsys.readouterr().err


# ---- against PyTorch -------------------------------------------------------------------

def test_versus_torch_counts_flips_and_tests_them_exactly():
    torch_right = np.ones(100, dtype=bool)
    lost_ten = torch_right.copy()
    lost_ten[:10] = False  # 10 examples PyTorch gets right and the IR gets wrong, none the other way
    verdict = versus_torch(torch_right, lost_ten)
    assert verdict["flips"] == {"right_to_wrong": 10, "wrong_to_right": 0}
    assert verdict["mcnemar_p"] == pytest.approx(2 * 0.5 ** 10) and verdict["within_noise"] is False
    torch_right[95:] = False  # PyTorch wrong on 5; the IR fixes 2 of them and breaks 3 others
    swapped = torch_right.copy()
    swapped[95:97] = True
    swapped[:3] = False
    verdict = versus_torch(torch_right, swapped)
    assert verdict["flips"] == {"right_to_wrong": 3, "wrong_to_right": 2}
    assert verdict["mcnemar_p"] == pytest.approx(1.0) and verdict["within_noise"] is True
    assert versus_torch(None, swapped) == {"mcnemar_p": None, "within_noise": None, "flips": None}


@pytest.mark.slow
def test_cli_infer_json_has_every_new_field(exported, model, capsys):
    assert main(["infer", str(exported), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    entries = result["runs"][exported.name]
    assert list(entries) == ["fp32", "native", "fp16"]
    test = datasets.load("digits").test
    with torch.inference_mode():
        torch_right = model(test.x).argmax(1).numpy() == test.y.numpy()
    for name, entry in entries.items():
        assert {"execution", "mcnemar_p", "within_noise", "flips", "torch_accuracy", "delta"} <= set(entry), name
        assert "correct" not in entry
        direct = infer.evaluate(exported / f"model_{precision.ir_precision(name)}.xml", test.x, test.y,
                                precision=name, examples=True)
        assert entry["flips"] == {"right_to_wrong": int(np.sum(torch_right & ~direct["correct"])),
                                  "wrong_to_right": int(np.sum(~torch_right & direct["correct"]))}
    assert entries["native"]["execution"] == {"CPU": openvino_default(exported / "model_fp32.xml")}
    assert entries["fp32"]["torch_accuracy"] == pytest.approx(float(np.mean(torch_right)))
    assert main(["infer", str(exported)]) == 0
    table = capsys.readouterr().out
    assert "runs in" in table and "vs torch" in table and "within noise" in table
