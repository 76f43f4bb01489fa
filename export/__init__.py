"""``descentlab.export``: a trained checkpoint -> ONNX -> OpenVINO IR (FP32, FP16) -> NNCF INT8.

| step | function | file |
|---|---|---|
| PyTorch -> ONNX, checked by ONNX Runtime | ``to_onnx(model, example, path)`` | onnx_export.py |
| ONNX -> IR FP32 and FP16 | ``to_openvino(onnx_path, out_dir, example)`` | openvino_ir.py |
| FP32 IR -> INT8 IR (NNCF) | ``quantize_int8(fp32_xml, calibration_x, out_path, ...)`` | int8.py |
| the whole route + ``manifest.json`` | ``export_checkpoint(checkpoint_path, out_dir, ...)`` | pipeline.py, manifest.py |

Heavy libraries (torch, onnx, openvino, nncf) are imported inside the functions.
"""

from .int8 import quantize_int8
from .onnx_export import to_onnx
from .openvino_ir import to_openvino
from .pipeline import PRECISIONS, export_checkpoint, parse_precisions

__all__ = ["PRECISIONS", "export_checkpoint", "parse_precisions", "quantize_int8", "to_onnx", "to_openvino"]
