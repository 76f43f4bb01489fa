"""Small export directories for the infer/bench tests, built here without ``export/``.

A digits MLP trained for a few full-batch steps (so its accuracy is far from
chance), saved as a descentlab checkpoint, exported with torch.onnx.export
(dynamic batch) and converted by OpenVINO to a real FP32 IR and an FP16 one.
"""

import json

import numpy as np


def digits():
    """The 1797 sklearn digits as float32 [N, 1, 8, 8] in [0, 1] and int64 labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.images / 16).astype(np.float32)[:, None], data.target.astype(np.int64)


def trained_mlp():
    from descentlab import models
    import torch

    x, y = digits()
    model = models.create("mlp", (1, 8, 8), 10, hidden=(32,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, labels = torch.from_numpy(x[:1200]), torch.from_numpy(y[:1200])
    for _ in range(60):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    return model.eval()


def export_dir(directory, model, *, checkpoint=True):
    """``model.onnx``, ``model_fp32/fp16.xml/.bin``, ``manifest.json`` (+ ``checkpoint.pt``) in ``directory``."""
    import openvino as ov
    import torch

    from descentlab.train.checkpoint import save

    directory.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(2, 1, 8, 8)
    torch.onnx.export(model, (example,), directory / "model.onnx", input_names=["x"],
                      dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False)
    converted = ov.convert_model(directory / "model.onnx")
    ov.save_model(converted, directory / "model_fp32.xml", compress_to_fp16=False)
    ov.save_model(converted, directory / "model_fp16.xml", compress_to_fp16=True)
    dataset = {"name": "digits", "data_dir": None, "seed": 0, "task": "classification"}
    (directory / "manifest.json").write_text(json.dumps(
        {"dataset": dataset, "input": {"name": "x", "shape": ["batch", 1, 8, 8]}}))
    if checkpoint:
        save(directory / "checkpoint.pt", {
            "model": {"name": "mlp", "kwargs": {"hidden": [32]}, "input_shape": [1, 8, 8], "num_classes": 10},
            "model_state": model.state_dict(), "dataset": dataset,
            "optimizer": {"name": "adam", "hparams": {"lr": 1e-2}, "state": {}},
            "history": {}, "config": {}, "epoch": 1})
    return directory
