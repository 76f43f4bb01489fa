"""Hop 1: PyTorch -> ONNX, checked by ONNX Runtime against PyTorch.

The dynamo exporter (``torch.export`` + onnxscript) with a dynamic batch axis and
one self-contained file (``external_data=False``: otherwise a ``.onnx.data`` file
appears even for tiny models; ``dynamic_axes`` is deprecated). The
file is only moved into place once ``onnx.checker`` (full check) passes and ONNX
Runtime reproduces the PyTorch logits within ``tolerance.allowed`` at the example batch
and at batch 1, which proves the batch axis really is dynamic.

A comparison exports the same architecture once per run, and ``torch.export``
is the slow part of the hop (seconds; half a minute on a process's first call
on some machines). So a process keeps the graph of each architecture it has
exported (``_GRAPHS``, keyed by the model's class, its printed structure, its
weights' names, shapes and dtypes, and the input's shape) and writes a later
model of the same architecture as that graph with the model's own weights in
its initializers: the same bytes a fresh export writes. A graph is kept only
when its names map one to one (every floating-point initializer is the
state-dict entry of its name, with equal values, and every floating-point
state-dict entry is an initializer), and every file, reused or not, passes
the same checks; a reused graph that fails them is exported afresh.
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
_GRAPHS = {}        # architecture -> serialized ONNX graph of a checked export, in this process
_GRAPHS_KEPT = 4

# torchvision is deliberately absent (its only build here is a multi-GB CUDA one); its ops are not needed here.
logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)


def to_onnx(model, example, path):
    """Export ``model`` (eval mode) to ``path``; return ``{"path", "opset", "max_abs_diff", ..., "graph"}``
    (``graph``: "exported" by torch.export, or "reused", an earlier export's graph with these weights).

    ``example`` is an input batch of at least 2 samples (torch.export turns a batch
    of 1 into a constant). Raises ``ValueError`` with one line when torch.export
    cannot capture the model or when ONNX Runtime differs from PyTorch by more
    than ``tolerance.allowed`` (1e-4 times the logits' scale).
    """
    import numpy as np
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
            architecture = _architecture(model, example)
            reused = architecture in _GRAPHS
            if reused:
                _write_with_weights(_GRAPHS[architecture], model, staged_path)
            else:
                _export(model, example, staged_path)
            proto, diffs = _check(staged_path, batches, expected)
            limit = allowed(expected["example"])
            if reused and not max(diffs.values()) <= limit:   # the kept graph is not this model's function
                del _GRAPHS[architecture]
                reused = False
                _export(model, example, staged_path)
                proto, diffs = _check(staged_path, batches, expected)
            worst = max(diffs.values())
            if not worst <= limit:
                raise ValueError(f"ONNX Runtime differs from PyTorch by {worst:.3g} (> {limit:.3g}) "
                                 f"for {type(model).__name__}")
            if not reused and _one_to_one(proto, model):
                _keep(architecture, proto)
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    return {"path": str(path), "opset": opset, "max_abs_diff": worst,
            "max_abs_diff_by_batch": {str(n): d for n, d in diffs.items()},
            "graph": "reused" if reused else "exported"}


def _check(path, batches, expected):
    """The full ONNX check of the file at ``path``, then ONNX Runtime's largest |logit difference|
    from PyTorch at each batch size; returns ``(proto, {batch size: difference})``."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return proto, {len(v): float(np.abs(session.run(None, {INPUT_NAME: v.numpy()})[0] - expected[k]).max())
                   for k, v in batches.items()}


def _architecture(model, example):
    """What decides the exported graph: the model's class and printed structure, its state
    dict's names, shapes and dtypes, and the shape and dtype of one input sample."""
    state = tuple((name, tuple(t.shape), str(t.dtype)) for name, t in model.state_dict().items())
    return (type(model).__module__, type(model).__qualname__, repr(model), state,
            tuple(example.shape[1:]), str(example.dtype))


def _floating(model):
    return {name: t.detach().cpu().numpy() for name, t in model.state_dict().items() if t.is_floating_point()}


def _one_to_one(proto, model):
    """Whether the graph's floating-point initializers are exactly the model's floating-point
    state-dict entries, by name, dtype and value: then new weights go in by name alone."""
    import numpy as np
    from onnx import numpy_helper

    state = _floating(model)
    initializers = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    floats = {name: a for name, a in initializers.items() if a.dtype.kind == "f"}
    return set(floats) == set(state) and all(
        floats[name].dtype == state[name].dtype and np.array_equal(floats[name], state[name]) for name in state)


def _keep(architecture, proto):
    _GRAPHS[architecture] = proto.SerializeToString()
    while len(_GRAPHS) > _GRAPHS_KEPT:
        del _GRAPHS[next(iter(_GRAPHS))]


def _write_with_weights(graph, model, path):
    """Write the kept ``graph`` (serialized) to ``path`` with ``model``'s weights in its initializers."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.ModelProto()
    proto.ParseFromString(graph)
    state = _floating(model)
    for initializer in proto.graph.initializer:
        if initializer.name in state:
            initializer.CopyFrom(numpy_helper.from_array(state[initializer.name], initializer.name))
    onnx.save(proto, path)


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
