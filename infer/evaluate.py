"""Accuracy, loss and confusion matrix of an OpenVINO IR on a data split.

Batches go through one synchronous infer request (see ``predict`` for why
not an ``AsyncInferQueue``). NPU compiles only static shapes, so there the model is reshaped to
``batch_size`` and the last batch is padded. The loss is the training loss of
the task (cross-entropy, lecture 000 "Optimization Problem"; MSE for
regression), computed in float64 from the logits.
"""

from pathlib import Path

import numpy as np

from .devices import check_device, core, needs_static_shapes
from .files import precision_of
from .precision import check_precision
from .runtime import check_input, compile_model, read_model

TASKS = ("classification", "regression")


def evaluate(ir_path, x, y, device="CPU", *, precision=None, batch_size=256, task="classification",
             cache_dir=None, examples=False):
    """Run IR ``ir_path`` on ``x`` and score it against ``y``.

    ``precision``: how the device computes (``precision.py``); by default the
    one the file name says (``model_fp16.xml``: fp16, pinned f32 arithmetic).
    ``native`` or ``bf16`` on ``model_fp32.xml`` run the FP32 IR in the
    device's default precision or in bf16.

    Returns ``{"accuracy", "loss", "confusion", "n", "device", "precision", "ir",
    "execution"}``; ``confusion[i][j]`` counts samples of class i predicted as j
    (None for regression); ``execution`` is the precision each device really
    computed in (``{"CPU": "f32"}``), read back from the compiled model.
    ``examples=True`` adds ``"correct"``: a boolean array, True where the prediction
    for that sample is right (classification only; the paired tests of a comparison use it).
    """
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}' (expected one of {', '.join(TASKS)})")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    precision = check_precision(precision) if precision is not None else precision_of(ir_path)
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must hold the same, non-zero number of samples ({len(x)} vs {len(y)})")
    ov_core = core()
    device = check_device(device, ov_core)
    model = read_model(ir_path, ov_core)
    check_input(model, x)
    static = needs_static_shapes(device)
    if static:
        model.reshape([batch_size, *x.shape[1:]])
    compiled, execution = compile_model(model, device, "THROUGHPUT", precision=precision or "fp32",
                                        cache_dir=cache_dir, ov_core=ov_core)
    outputs = predict(compiled, x, batch_size, pad=static)
    result = {**score(outputs, y, task), "n": len(x), "device": device,
              "precision": precision, "ir": str(Path(ir_path)), "execution": execution}
    if examples and task == "classification":
        result["correct"] = classes(outputs) == y.astype(np.int64).reshape(-1)
    return result


def predict(compiled, x, batch_size, *, pad=False):
    """The model's first output for every sample of ``x``, batch by batch, requests in flight at once.

    No Python callback: OpenVINO would call it from its own threads, which
    then need the GIL, and destroying the compiled model while one of them
    waits for it deadlocks (seen under load). Instead the loop takes the next
    idle request, collects the batch it finished, and starts the next one.
    """
    import openvino as ov

    queue = ov.AsyncInferQueue(compiled, compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
    starts = range(0, len(x), batch_size)
    chunks = [None] * len(starts)
    running = {}  # request id -> (batch index, real samples in it)

    def collect(request_id):
        index, count = running.pop(request_id)
        chunks[index] = queue[request_id].get_output_tensor(0).data[:count].copy()

    for index, start in enumerate(starts):
        batch = x[start:start + batch_size]
        count = len(batch)
        if pad and count < batch_size:
            batch = np.concatenate([batch, np.zeros((batch_size - count, *x.shape[1:]), np.float32)])
        request_id = queue.get_idle_request_id()  # blocks until a request is free
        if request_id in running:
            collect(request_id)
        running[request_id] = (index, count)
        queue.start_async({0: batch})  # starts that same idle request
    queue.wait_all()
    for request_id in list(running):
        collect(request_id)
    return np.concatenate(chunks)


def classes(outputs):
    """The predicted class of each sample: the argmax of the logits, or logit > 0 for one output."""
    outputs = outputs.reshape(len(outputs), -1)
    return (outputs[:, 0] > 0).astype(np.int64) if outputs.shape[1] == 1 else outputs.argmax(axis=1)


def score(outputs, y, task):
    """Accuracy, mean loss and confusion matrix from raw model outputs (logits)."""
    outputs = outputs.astype(np.float64).reshape(len(outputs), -1)
    if task == "regression":
        target = y.astype(np.float64).reshape(len(y), -1)
        return {"accuracy": None, "loss": float(np.mean((outputs - target) ** 2)), "confusion": None}
    y = y.astype(np.int64).reshape(-1)
    if outputs.shape[1] == 1:
        # One logit: binary classification through a sigmoid (the lecture's sigmoid neuron).
        z = outputs[:, 0]
        loss = np.mean(np.logaddexp(0, z) - y * z)
        n_classes = 2
        if y.min() < 0 or y.max() > 1:
            raise ValueError(f"labels run from {y.min()} to {y.max()} but the model has one output (binary)")
    else:
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if y.min() < 0 or y.max() >= outputs.shape[1]:
            raise ValueError(f"labels run from {y.min()} to {y.max()} but the model has "
                             f"{outputs.shape[1]} outputs")
        loss = -np.mean(log_softmax[np.arange(len(y)), y])
        n_classes = outputs.shape[1]
    predicted = classes(outputs)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)
    return {"accuracy": float(np.mean(predicted == y)), "loss": float(loss),
            "confusion": confusion.tolist()}
