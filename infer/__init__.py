"""``infer``: run exported models with the OpenVINO runtime.

``devices()`` lists what is here, ``evaluate()`` scores an IR on a data split,
``evaluate_path()`` scores every run x precision of an export or compare
directory, ``bench()`` times an IR beside PyTorch eager and ONNX Runtime.
"""

from .bench import bench
from .devices import check_device, devices
from .evaluate import evaluate
from .runs import evaluate_path
from .runtime import CACHE_DIR

__all__ = ["CACHE_DIR", "bench", "check_device", "devices", "evaluate", "evaluate_path"]
