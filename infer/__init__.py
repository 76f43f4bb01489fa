"""``descentlab.infer``: run exported models with the OpenVINO runtime.

``devices()`` lists what is here, ``evaluate()`` scores an IR on a data split,
``evaluate_path()`` scores every run x precision of an export or compare
directory, ``bench()`` times an IR beside PyTorch eager and ONNX Runtime.
``PRECISIONS``: the ways to run an IR, pinned f32 (fp32, fp16, int8), the
device's own default (native) and bf16 (``precision.py``);
``torch_correct()`` gives the per-example hits of the PyTorch model an IR came from.
"""

from .bench import bench
from .devices import check_device, default_execution, devices, execution_precisions
from .evaluate import evaluate
from .precision import PRECISIONS, check_supported
from .reference import torch_correct
from .runs import evaluate_path
from .runtime import CACHE_DIR

__all__ = ["CACHE_DIR", "PRECISIONS", "bench", "check_device", "check_supported", "default_execution", "devices",
           "evaluate", "evaluate_path", "execution_precisions", "torch_correct"]
