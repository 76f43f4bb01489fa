"""The export route torch -> ONNX -> OpenVINO IR FP32/FP16 -> NNCF INT8, hop by hop.

Every number is checked against an independent reference: PyTorch's own logits,
ONNX Runtime / OpenVINO run here (not the report the code returns), the IR's
.xml read as plain XML, hashlib for the manifest's sha256.
"""

import hashlib
import importlib.metadata
import json
import xml.etree.ElementTree as ET

import numpy as np
import onnx
import onnxruntime as ort
import openvino as ov
import pytest
import torch
from torch import nn

from descentlab import export
from descentlab import models
from descentlab import cli
from descentlab.train import checkpoint, datasets

F32 = {ov.properties.hint.inference_precision: ov.Type.f32}  # the CPU plugin here defaults to bf16


def run_ir(xml, x):
    return ov.Core().compile_model(str(xml), "CPU", F32)(np.asarray(x, dtype=np.float32))[0]


def const_types(xml):
    """Element types of the IR's Const layers, read from the .xml as plain XML."""
    root = ET.parse(xml).getroot()
    return [layer.find("data").get("element_type") for layer in root.iter("layer") if layer.get("type") == "Const"]


def layer_types(xml):
    """The type of every layer of the IR, read from the .xml as plain XML."""
    return [layer.get("type") for layer in ET.parse(xml).getroot().iter("layer")]


def leftovers(directory):
    """Temporary staging directories left beside or inside ``directory``."""
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


class SmallConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.max_pool2d(torch.relu(self.conv(x)), 2), 1))


class DataDependent(nn.Module):
    """A branch on a value: torch.export cannot capture it."""

    def forward(self, x):
        return x * 2 if x.sum() > 0 else x


class Noisy(nn.Module):
    """Exports fine but cannot match PyTorch: the random draw differs at every run."""

    def forward(self, x):
        return x + torch.rand_like(x)


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return SmallConvNet().eval(), torch.randn(6, 1, 8, 8)


@pytest.fixture(scope="module")
def small_onnx(small, tmp_path_factory):
    model, example = small
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    return export.to_onnx(model, example, path), path


# ---- hop 1: ONNX -----------------------------------------------------------

@pytest.mark.slow
def test_onnx_matches_torch_at_another_batch_size_in_one_file(small, small_onnx):
    model, _ = small
    report, path = small_onnx
    assert report["max_abs_diff"] <= 1e-4 and report["opset"] == 20
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.onnx"]  # no .onnx.data, no temp dir
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a named, dynamic batch axis
    x = torch.randn(11, 1, 8, 8)  # neither the example batch nor batch 1
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=0, atol=1e-5)


@pytest.mark.slow
def test_onnx_refuses_a_model_torch_export_cannot_capture(tmp_path):
    with pytest.raises(ValueError, match="torch.export cannot capture DataDependent") as err:
        export.to_onnx(DataDependent(), torch.randn(4, 3), tmp_path / "model.onnx")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_onnx_mismatch_fails_and_keeps_the_previous_file(tmp_path):
    (tmp_path / "model.onnx").write_text("previous")
    with pytest.raises(ValueError, match="ONNX Runtime differs from PyTorch"):
        export.to_onnx(Noisy(), torch.randn(4, 3), tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").read_text() == "previous"
    assert leftovers(tmp_path) == []


def test_onnx_refuses_a_diverged_model(tmp_path):
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite"):
        export.to_onnx(model, torch.randn(4, 3), tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_onnx_needs_a_batch_of_two(small, tmp_path):
    with pytest.raises(ValueError, match="at least 2 samples"):
        export.to_onnx(small[0], torch.randn(1, 1, 8, 8), tmp_path / "model.onnx")


class Rolled(nn.Module):
    """Its output depends on ``shift``, which neither its printout nor its weights show."""

    def __init__(self, shift):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.shift = shift

    def forward(self, x):
        return self.fc(x).roll(self.shift, dims=1)


@pytest.mark.slow
def test_a_second_model_of_an_architecture_reuses_the_graph_byte_for_byte(tmp_path, monkeypatch):
    """torch.export runs once; the second file is the one a fresh export writes, and is checked."""
    from descentlab.export import onnx_export

    monkeypatch.setattr(onnx_export, "_GRAPHS", {})
    exported = []
    real = onnx_export._export
    monkeypatch.setattr(onnx_export, "_export", lambda *args: (exported.append(args[0]), real(*args)))
    first, second = (models.create("cnn", (1, 8, 8), 10, seed=seed).eval() for seed in (0, 1))
    example = torch.randn(6, 1, 8, 8)
    assert export.to_onnx(first, example, tmp_path / "a.onnx")["graph"] == "exported"
    report = export.to_onnx(second, example, tmp_path / "b.onnx")
    assert report["graph"] == "reused" and exported == [first] and report["max_abs_diff"] <= 1e-4
    onnx_export._GRAPHS.clear()
    assert export.to_onnx(second, example, tmp_path / "fresh.onnx")["graph"] == "exported"
    assert (tmp_path / "b.onnx").read_bytes() == (tmp_path / "fresh.onnx").read_bytes()
    larger = models.create("cnn", (1, 12, 12), 10, seed=0).eval()
    assert export.to_onnx(larger, torch.randn(6, 1, 12, 12), tmp_path / "c.onnx")["graph"] == "exported"


@pytest.mark.slow
def test_a_kept_graph_that_computes_something_else_is_exported_afresh(tmp_path, monkeypatch):
    from descentlab.export import onnx_export

    monkeypatch.setattr(onnx_export, "_GRAPHS", {})
    torch.manual_seed(0)
    one, two = Rolled(1), Rolled(2)
    x = torch.randn(4, 3)
    assert export.to_onnx(one, x, tmp_path / "one.onnx")["graph"] == "exported"
    assert len(onnx_export._GRAPHS) == 1                 # its names map one to one: kept
    assert onnx_export._architecture(one, x) == onnx_export._architecture(two, x)   # and looked up for two
    report = export.to_onnx(two, x, tmp_path / "two.onnx")
    assert report["graph"] == "exported" and report["max_abs_diff"] <= 1e-5
    got = ort.InferenceSession(str(tmp_path / "two.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, two(x).detach().numpy(), rtol=0, atol=1e-5)


# ---- hop 2: OpenVINO IR --------------------------------------------------------

@pytest.mark.slow
def test_ir_fp32_holds_f32_weights_and_matches_torch(small, small_onnx, tmp_path):
    model, example = small
    x = torch.randn(9, 1, 8, 8)
    expected = model(x).detach().numpy()
    report = export.to_openvino(small_onnx[1], tmp_path, x, expected=expected)
    fp32, fp16 = tmp_path / "model_fp32.xml", tmp_path / "model_fp16.xml"
    assert {t for t in const_types(fp32) if t.startswith("f")} == {"f32"}
    assert "f16" in const_types(fp16)
    assert (tmp_path / "model_fp32.bin").stat().st_size > 1.8 * (tmp_path / "model_fp16.bin").stat().st_size
    fp32_diff = np.abs(run_ir(fp32, x) - expected).max()
    fp16_diff = np.abs(run_ir(fp16, x) - expected).max()
    assert fp32_diff <= 1e-5 < fp16_diff < 1e-2
    assert report["reference"] == "torch"
    assert report["fp32"]["max_abs_diff"] == pytest.approx(fp32_diff, abs=1e-6)
    assert report["fp16"]["max_abs_diff"] == pytest.approx(fp16_diff, rel=1e-3)
    np.testing.assert_allclose(run_ir(fp32, x[:1]), expected[:1], atol=1e-5)  # batch axis stays dynamic


# ---- the digits MLP, trained: INT8 and the whole route ---------------------------------

def train_checkpoint(path, name="mlp", dataset="digits", epochs=0, **kwargs):
    """A checkpoint in train.checkpoint's format; ``epochs`` of plain Adam on the training split."""
    data = datasets.load(dataset, seed=0)
    num_classes = 1 if name == "neuron" else data.num_classes
    model = models.create(name, data.input_shape, num_classes, **kwargs)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    order = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for batch in torch.randperm(len(data.train), generator=order).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(data.train.x[batch]), data.train.y[batch]).backward()
            opt.step()
    checkpoint.save(path, {
        "model": {"name": name, "kwargs": kwargs, "input_shape": list(data.input_shape), "num_classes": num_classes},
        "model_state": model.state_dict(),
        "dataset": {"name": dataset, "data_dir": None, "seed": 0, "task": data.task},
        "optimizer": {"name": "adam", "hparams": {"lr": 1e-2}, "state": opt.state_dict()},
        "history": {"train_loss": []}, "config": {"epochs": epochs}, "epoch": epochs})
    return model.eval(), data


@pytest.fixture(scope="module")
def digits_mlp(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits")
    model, data = train_checkpoint(root / "ckpt.pt", epochs=20)
    manifest = export.export_checkpoint(root / "ckpt.pt", root / "out")
    return root, model, data, manifest


@pytest.mark.slow
def test_int8_of_digits_mlp_is_within_two_points_of_fp32(digits_mlp):
    root, model, data, manifest = digits_mlp
    x, y = data.val.x.numpy(), data.val.y.numpy()
    fp32 = (run_ir(root / "out/model_fp32.xml", x).argmax(1) == y).mean()
    int8 = (run_ir(root / "out/model_int8.xml", x).argmax(1) == y).mean()
    torch_accuracy = (model(data.val.x).argmax(1).numpy() == y).mean()
    assert fp32 == torch_accuracy > 0.9
    assert int8 >= fp32 - 0.02
    assert "i8" in const_types(root / "out/model_int8.xml")
    assert manifest["int8"]["accuracy_fp32"] == pytest.approx(fp32)
    assert manifest["int8"]["accuracy_int8"] == pytest.approx(int8)
    assert manifest["int8"]["subset_size"] == 300 and manifest["int8"]["overflow_fix"] == "enable"


@pytest.mark.slow
def test_manifest_is_complete_and_true(digits_mlp):
    root, model, data, manifest = digits_mlp
    out = root / "out"
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["source"]["sha256"] == hashlib.sha256((root / "ckpt.pt").read_bytes()).hexdigest()
    assert manifest["optimizer"] == {"name": "adam", "hparams": {"lr": 1e-2}}
    assert manifest["dataset"]["name"] == "digits" and manifest["input"]["shape"] == ["batch", 1, 8, 8]
    assert manifest["opset"] == 20
    assert manifest["tools"] == {t: importlib.metadata.version(t) for t in export.manifest.TOOLS}
    names = {"model.onnx"} | {f"model_{p}{s}" for p in ("fp32", "fp16", "int8") for s in (".xml", ".bin")}
    assert set(manifest["files"]) == names
    assert sorted(p.name for p in out.iterdir()) == sorted(names | {"manifest.json"})
    for name, info in manifest["files"].items():
        assert info["bytes"] == (out / name).stat().st_size
    hops = {h["stage"]: h for h in manifest["hops"]}
    assert list(hops) == ["torch", "onnx", "ir-fp32", "ir-fp16", "ir-int8"]
    example = data.val.x[:manifest["example_batch"]]
    expected = model(example).detach().numpy()
    for stage, xml in (("ir-fp32", "model_fp32.xml"), ("ir-fp16", "model_fp16.xml"), ("ir-int8", "model_int8.xml")):
        diff = np.abs(run_ir(out / xml, example) - expected).max()
        assert hops[stage]["max_abs_diff"] == pytest.approx(diff, rel=1e-3, abs=1e-6), stage
    assert hops["onnx"]["max_abs_diff"] <= 1e-4 and hops["ir-fp32"]["max_abs_diff"] <= 1e-4
    assert hops["ir-fp16"]["max_abs_diff"] < 1e-1 < hops["ir-int8"]["max_abs_diff"] < 10
    assert hops["ir-fp32"]["weight_types"] == ["f32"] and hops["ir-fp16"]["weight_types"] == ["f16"]


@pytest.mark.slow
def test_accuracy_control_keeps_the_drop_within_bounds(digits_mlp, tmp_path):
    root, _, data, _ = digits_mlp
    x, y = data.val.x.numpy(), data.val.y.numpy()
    report = export.quantize_int8(root / "out/model_fp32.xml", data.train.x, tmp_path / "int8.xml",
                                  subset_size=100, validation=(x, y), max_accuracy_drop=0.0)
    fp32 = (run_ir(root / "out/model_fp32.xml", x).argmax(1) == y).mean()
    int8 = (run_ir(tmp_path / "int8.xml", x).argmax(1) == y).mean()
    assert report["accuracy_control"] and report["subset_size"] == 100
    assert int8 >= fp32 and report["accuracy_int8"] == pytest.approx(int8)
    # needed exactly when the plain INT8 model (same calibration) loses accuracy
    plain = export.quantize_int8(root / "out/model_fp32.xml", data.train.x, tmp_path / "plain.xml", subset_size=100)
    plain_accuracy = (run_ir(tmp_path / "plain.xml", x).argmax(1) == y).mean()
    assert report["accuracy_control_needed"] == (plain_accuracy < fp32)
    assert plain["accuracy_control_needed"] is None and plain["quantizers_reverted"] == 0
    for xml, info in ((tmp_path / "int8.xml", report), (tmp_path / "plain.xml", plain)):
        assert info["quantizers"] == layer_types(xml).count("FakeQuantize") >= 1
    assert report["quantizers_reverted"] == layer_types(tmp_path / "plain.xml").count("FakeQuantize") - \
        report["quantizers"]
    loose = export.quantize_int8(root / "out/model_fp32.xml", data.train.x, tmp_path / "loose.xml", subset_size=100,
                                 validation=(x, y), max_accuracy_drop=0.5)
    assert loose["accuracy_control_needed"] is False and loose["quantizers_reverted"] == 0
    np.testing.assert_array_equal(run_ir(tmp_path / "loose.xml", x), run_ir(tmp_path / "plain.xml", x))
    with pytest.raises(ValueError, match="validation"):
        export.quantize_int8(root / "out/model_fp32.xml", data.train.x, tmp_path / "b.xml", max_accuracy_drop=0.01)


@pytest.mark.slow
def test_failed_export_leaves_the_previous_export_intact(digits_mlp, monkeypatch):
    root = digits_mlp[0]
    before = {p.name: p.read_bytes() for p in (root / "out").iterdir()}

    def broken(*args, **kwargs):
        raise RuntimeError("quantizer died")

    monkeypatch.setattr(export.pipeline, "quantize_int8", broken)
    with pytest.raises(RuntimeError, match="quantizer died"):
        export.export_checkpoint(root / "ckpt.pt", root / "out")
    assert {p.name: p.read_bytes() for p in (root / "out").iterdir()} == before
    assert leftovers(root) == []


# ---- the command line -----------------------------------------------------------------

@pytest.mark.slow
def test_cli_exports_the_asked_precisions_and_removes_stale_ones(digits_mlp, tmp_path, capsys):
    root = digits_mlp[0]
    out = tmp_path / "run"
    out.mkdir()
    for name in ("model_int8.xml", "model_int8.bin"):  # left by an earlier export
        (out / name).write_text("stale")
    (out / "ckpt.pt").write_bytes((root / "ckpt.pt").read_bytes())
    assert cli.main(["export", str(out / "ckpt.pt"), "--out", str(out), "--precisions", "fp16", "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert [h["stage"] for h in manifest["hops"]] == ["torch", "onnx", "ir-fp16"]
    assert sorted(p.name for p in out.iterdir()) == ["ckpt.pt", "manifest.json", "model.onnx",
                                                     "model_fp16.bin", "model_fp16.xml"]


@pytest.mark.parametrize("argv, message", [
    (["--precisions", "fp32,fp8"], "unknown precision 'fp8'"),
    (["--max-accuracy-drop", "2"], "fraction"),
])
@pytest.mark.slow
def test_cli_bad_arguments_exit_2_with_one_line(digits_mlp, tmp_path, capsys, argv, message):
    assert cli.main(["export", str(digits_mlp[0] / "ckpt.pt"), "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content, message", [(None, "does not exist"), (b"not a checkpoint", "not a readable")])
def test_cli_missing_or_corrupt_checkpoint_exits_2(tmp_path, capsys, content, message):
    ckpt = tmp_path / "ckpt.pt"
    if content is not None:
        ckpt.write_bytes(content)
    assert cli.main(["export", str(ckpt), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_cli_weights_that_do_not_fit_or_an_out_file_exit_2(digits_mlp, tmp_path, capsys):
    saved = checkpoint.load(digits_mlp[0] / "ckpt.pt")
    saved["model_state"] = {k: v[:3] for k, v in saved["model_state"].items()}
    checkpoint.save(tmp_path / "cut.pt", saved)
    assert cli.main(["export", str(tmp_path / "cut.pt"), "--out", str(tmp_path / "o")]) == 2
    assert "size mismatch" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert cli.main(["export", str(digits_mlp[0] / "ckpt.pt"), "--out", str(tmp_path / "file")]) == 2
    assert "not a directory" in capsys.readouterr().err


# ---- every model of the zoo, every hop (untrained weights: the numbers are what is checked) ----

ZOO = [("neuron", "sigmoid2"), ("logreg", "digits"), ("mlp", "digits"), ("cnn", "digits"), ("lenet", "digits")]


def test_zoo_is_covered():
    assert sorted(name for name, _ in ZOO) == models.available()


@pytest.mark.slow
@pytest.mark.parametrize("name, dataset", ZOO)
def test_every_zoo_model_goes_through_every_hop(name, dataset, tmp_path):
    model, data = train_checkpoint(tmp_path / "ckpt.pt", name=name, dataset=dataset)
    manifest = export.export_checkpoint(tmp_path / "ckpt.pt", tmp_path / "out")
    hops = {h["stage"]: h for h in manifest["hops"]}
    assert list(hops) == ["torch", "onnx", "ir-fp32", "ir-fp16", "ir-int8"]
    x = data.val.x[:7]
    expected = model(x).detach().numpy()
    for xml, tolerance in (("model_fp32.xml", 1e-4), ("model_fp16.xml", 2e-2)):
        np.testing.assert_allclose(run_ir(tmp_path / "out" / xml, x), expected, rtol=0, atol=tolerance)
    assert hops["onnx"]["max_abs_diff"] <= 1e-4 and hops["ir-fp32"]["max_abs_diff"] <= 1e-4
    assert np.isfinite(run_ir(tmp_path / "out/model_int8.xml", x)).all()
    assert {t for t in const_types(tmp_path / "out/model_fp32.xml") if t.startswith("f")} == {"f32"}
    classified = data.task == "classification"
    assert (manifest["int8"]["accuracy_int8"] is not None) == classified
