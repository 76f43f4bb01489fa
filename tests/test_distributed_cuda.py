"""Training on CUDA (``--train-device cuda``): every optimizer keeps its state on
the parameter's device, and its readable, multi-tensor and fused paths give
the CPU's numbers (float64, 1e-10: only the kernels' rounding differs).
Skipped on a machine without CUDA, the only skip of the distributed tests."""

import dataclasses

import pytest
import torch

from descentlab import optimizers
from descentlab.train import datasets
from descentlab.train.run import RunConfig, train_run

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


def _paths(name):
    cls, defaults = optimizers.info(name).cls, optimizers.defaults(name)
    paths = {"readable": {"foreach": False} if "foreach" in defaults else {}}
    if cls.has_fast_path():
        paths["foreach"] = {"foreach": True}
    if cls.has_fused_path():
        paths["fused"] = {"fused": True}
    return paths


def _steps(name, device, options, steps=5):
    torch.manual_seed(0)
    params = [torch.randn(7, 5, dtype=torch.float64, device=device, requires_grad=True),
              torch.randn(5, dtype=torch.float64, device=device, requires_grad=True)]
    optimizer = optimizers.create(name, params, **options)
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            loss = (params[0] @ params[1]).sin().square().sum() + params[1].pow(4).sum()
            loss.backward()
            return loss
        optimizer.step(closure)
    return params, optimizer


@pytest.mark.parametrize("name", optimizers.available())
def test_every_path_on_cuda_equals_cpu(name):
    expected, _ = _steps(name, "cpu", _paths(name)["readable"])
    for path, options in _paths(name).items():
        params, optimizer = _steps(name, "cuda", options)
        for p, q in zip(params, expected):
            torch.testing.assert_close(p.cpu(), q, rtol=0, atol=1e-10, msg=lambda m: f"{path}: {m}")
        for p in params:
            for value in optimizer.state[p].values():
                if torch.is_tensor(value) and value.dim() > 0:
                    assert value.device == p.device, (path, value.device)


def test_train_run_on_cuda_equals_cpu():
    dataset = datasets.load("digits")
    config = RunConfig(dataset="digits", model="mlp", optimizer="adam", epochs=1, batch_size=64)
    cpu = train_run(config, dataset)
    cuda = train_run(dataclasses.replace(config, device="cuda"), dataset)
    assert cuda["history"]["step_loss"] == pytest.approx(cpu["history"]["step_loss"], abs=1e-4)
    assert cuda["torch"]["test_accuracy"] == pytest.approx(cpu["torch"]["test_accuracy"], abs=0.01)
