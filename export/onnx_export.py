"""Hop 1: PyTorch -> ONNX, checked by ONNX Runtime against PyTorch.

The dynamo exporter (``torch.export`` + onnxscript) with a dynamic batch axis and
one self-contained file (``external_data=False``: otherwise a ``.onnx.data`` file
appears even for tiny models; ``dynamic_axes`` is deprecated). The
file is only moved into place once ``onnx.checker`` (full check) passes and ONNX
Runtime reproduces the PyTorch logits within ``tolerance.allowed`` at the example batch
and at batch 1, which proves the batch axis really is dynamic.
"""

import io
import logging
import os
import sys
import tempfile
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from .staging import staged
from .tolerance import allowed
INPUT_NAME = "x"
OUTPUT_NAME = "logits"

# torchvision is deliberately absent (its only build here is a multi-GB CUDA one); its ops are not needed here.
logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)


def to_onnx(model, example, path):
    """Export ``model`` (eval mode) to ``path``; return ``{"path", "opset", "max_abs_diff", ...}``.

    ``example`` is an input batch of at least 2 samples (torch.export turns a batch
    of 1 into a constant). Raises ``ValueError`` with one line when torch.export
    cannot capture the model or when ONNX Runtime differs from PyTorch by more
    than ``tolerance.allowed`` (1e-4 times the logits' scale).
    """
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    example = torch.as_tensor(example, dtype=torch.float32)
    if example.ndim < 2 or example.shape[0] < 2:
        raise ValueError(f"the example batch must hold at least 2 samples (got shape {tuple(example.shape)}): "
                         "torch.export treats a batch of 1 as a fixed size")
    path = Path(path)
    batches = {"example": example, "single": example[:1]}
    with _eval_mode(model), torch.no_grad():
        expected = {k: model(v).numpy() for k, v in batches.items()}
        if not np.isfinite(expected["example"]).all():
            raise ValueError(f"{type(model).__name__} gives non-finite logits on the example batch "
                             "(a diverged run?): nothing to compare an export with")
        with staged(path.parent) as tmp:
            staged_path = tmp / path.name
            _export(model, example, staged_path)
            proto = onnx.load(staged_path)
            onnx.checker.check_model(proto, full_check=True)
            session = ort.InferenceSession(str(staged_path), providers=["CPUExecutionProvider"])
            diffs = {len(v): float(np.abs(session.run(None, {INPUT_NAME: v.numpy()})[0] - expected[k]).max())
                     for k, v in batches.items()}
            worst = max(diffs.values())
            limit = allowed(expected["example"])
            if not worst <= limit:
                raise ValueError(f"ONNX Runtime differs from PyTorch by {worst:.3g} (> {limit:.3g}) "
                                 f"for {type(model).__name__}")
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    return {"path": str(path), "opset": opset, "max_abs_diff": worst,
            "max_abs_diff_by_batch": {str(n): d for n, d in diffs.items()}}


def _export(model, example, path):
    import torch

    try:
        with _quiet():
            torch.onnx.export(model, (example,), path, dynamo=True, external_data=False, verbose=False,
                              input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                              # a tuple, not {"x": ...}: it holds whatever the forward argument is called
                              dynamic_shapes=({0: torch.export.Dim("batch")},))
    except torch.onnx.OnnxExporterError as exc:
        cause = exc.__cause__ or exc
        reason = next((line.strip() for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
        raise ValueError(f"torch.export cannot capture {type(model).__name__}: {reason}") from None


@contextmanager
def _quiet():
    """Swallow what the exporter prints, at the file-descriptor level (its loggers hold the
    original stderr): a failure dumps whole FX graphs, and the CLI promises one line."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 1), os.dup2(sink.fileno(), 2)
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                yield
        finally:
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])


class _eval_mode:
    """Export and compare in eval mode (dropout off), then give the caller its mode back."""

    def __init__(self, model):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)
