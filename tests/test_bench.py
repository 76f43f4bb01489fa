"""descentlab bench: the JSON schema, the side-by-side rows, skipped backends, exit 2 on bad input."""

import json

import openvino
import pytest

from descentlab.cli import main
from tests.infer_cases import export_dir, trained_mlp

LATENCY_KEYS = {"median_ms", "p90_ms", "p99_ms", "min_ms", "max_ms", "count"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_dir(tmp_path_factory.mktemp("bench"), trained_mlp())


def _bench(argv, capsys):
    code = main(["bench", *argv])
    out, err = capsys.readouterr()
    return code, out, err.strip()


@pytest.mark.slow
def test_bench_json_schema_and_speedups(exported, tmp_path, capsys):
    out_file = tmp_path / "bench.json"
    code, out, _ = _bench([str(exported), "-t", "0.05", "--batch", "8", "--json", "--out", str(out_file)], capsys)
    assert code == 0
    result = json.loads(out)
    assert json.loads(out_file.read_text()) == result
    assert {"path", "run", "device", "cpu_flags", "threads", "seconds", "batch", "hint", "nireq", "input_shape",
            "rows"} <= set(result)
    with open("/proc/cpuinfo") as f:
        flags = next(line for line in f if line.startswith("flags")).split()
    assert ("avx2" in result["cpu_flags"]) == ("avx2" in flags)
    assert [f for f in result["cpu_flags"] if f.startswith("avx512")] == sorted(f for f in set(flags)
                                                                               if f.startswith("avx512"))
    assert (result["device"], result["batch"], result["hint"], result["input_shape"]) == ("CPU", 8, "throughput",
                                                                                          [1, 8, 8])
    rows = {(r["backend"], r["precision"]): r for r in result["rows"]}
    assert list(rows) == [("openvino", "fp32"), ("openvino", "native"), ("openvino", "fp16"), ("pytorch", "fp32"),
                          ("onnxruntime", "fp32")]
    # what the CPU computes an FP32 IR in when nothing is pinned, asked of OpenVINO directly
    default = openvino.Core().compile_model(str(exported / "model_fp32.xml"), "CPU").get_property(
        "INFERENCE_PRECISION_HINT").get_type_name()
    assert rows[("openvino", "native")]["execution"] == {"CPU": default}
    assert rows[("openvino", "fp32")]["execution"] == rows[("openvino", "fp16")]["execution"] == {"CPU": "f32"}
    assert rows[("pytorch", "fp32")]["execution"] == rows[("onnxruntime", "fp32")]["execution"] == {"CPU": "f32"}
    for key, row in rows.items():
        assert row["skipped"] is None, key
        latency, throughput = row["latency"], row["throughput"]
        assert set(latency) == LATENCY_KEYS and latency["count"] >= 5
        assert latency["min_ms"] <= latency["median_ms"] <= latency["p90_ms"] <= latency["p99_ms"] <= latency["max_ms"]
        assert throughput["batch"] == 8 and throughput["fps"] > 0
        assert row["load_ms"] > 0 and row["first_inference_ms"] > 0 and row["device_name"]
    torch = rows[("pytorch", "fp32")]
    assert torch["latency_speedup"] == pytest.approx(1) and torch["throughput_speedup"] == pytest.approx(1)
    ov = rows[("openvino", "fp32")]
    assert ov["throughput_speedup"] == pytest.approx(ov["throughput"]["fps"] / torch["throughput"]["fps"])
    assert ov["throughput"]["hint"] == "throughput" and ov["throughput"]["nireq"] >= 1
    assert "torch" in torch["device_name"].lower() or "pytorch" in torch["device_name"].lower()


@pytest.mark.slow
def test_single_ir_without_checkpoint_skips_pytorch(exported, tmp_path, capsys):
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("model_fp32.xml", "model_fp32.bin", "manifest.json"):
        (alone / name).write_bytes((exported / name).read_bytes())
    code, out, _ = _bench([str(alone / "model_fp32.xml"), "-t", "0.02", "--batch", "4", "--hint", "latency",
                           "--nireq", "1"], capsys)
    assert code == 0
    assert "pytorch skipped: no checkpoint.pt beside the IR" in out
    assert "onnxruntime skipped: no model.onnx beside the IR" in out
    assert "openvino" in out and "fps @4" in out


@pytest.mark.parametrize("argv, message", [
    (["--device", "NPU"], "device 'NPU' is not available here (available: CPU)"),
    (["--batch", "0"], "the batch size must be a positive integer"),
    (["-t", "0"], "the duration must be positive"),
    (["--nireq", "0"], "nireq must be a positive integer"),
])
@pytest.mark.slow
def test_bad_options_exit_2_with_one_line(exported, argv, message, capsys):
    code, _, err = _bench([str(exported), *argv], capsys)
    assert code == 2 and message in err and "\n" not in err


def test_corrupt_ir_and_missing_path_exit_2(tmp_path, capsys):
    (tmp_path / "model_fp32.xml").write_text("<?xml version='1.0'?><net name='x'")
    (tmp_path / "model_fp32.bin").write_bytes(b"\1\2")
    code, _, err = _bench([str(tmp_path), "-t", "0.02"], capsys)
    assert code == 2 and "not a readable OpenVINO IR" in err
    code, _, err = _bench([str(tmp_path / "missing")], capsys)
    assert code == 2 and "does not exist" in err
