"""The Python API: ``descentlab.compare.run`` on the user's own model and data,
through export and OpenVINO evaluation."""

import json

import pytest
import torch
from torch import nn

from descentlab import compare
from descentlab.train.batches import epoch_batches


def two_layer(input_shape, num_classes, seed):
    """A user's model factory: (input_shape, num_classes, seed) -> nn.Module."""
    return nn.Sequential(nn.Flatten(), nn.Linear(input_shape[0], 16), nn.Tanh(), nn.Linear(16, num_classes))


def user_data():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(500, 6, generator=g)
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).long() + (x[:, 2] > 1).long()   # three classes
    return {"train": (x[:300], y[:300]), "val": (x[300:400], y[300:400]), "test": (x[400:], y[400:])}


class PairDataset(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "cmp"
    # fp32: the reference loop below trains in float32 (auto would pick bf16 on an AMX CPU)
    return out, compare.run(out, model=two_layer, data=user_data(), optimizers=["sgd", "adam"], epochs=2,
                            batch_size=50, seeds=[0], precisions=["fp32", "int8"], train_precision="fp32")


@pytest.mark.slow
def test_results_are_returned_and_written(results):
    out, res = results
    assert res == json.loads((out / "results.json").read_text())
    assert res["model"] == f"{__name__}:two_layer" and res["dataset"] == "custom"
    assert [r["optimizer"] for r in res["runs"]] == ["sgd", "adam"]


@pytest.mark.slow
def test_sgd_run_equals_a_plain_torch_loop(results):
    """An independent reference: torch.optim.SGD on the same initial weights and
    the same batch order gives the same test loss."""
    _, res = results
    data = user_data()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = two_layer((6,), 3, 0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    generator = torch.Generator().manual_seed(0)
    for _ in range(2):
        for xb, yb in epoch_batches(*data["train"], 50, generator):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    with torch.no_grad():
        test_loss = nn.functional.cross_entropy(model(data["test"][0]), data["test"][1]).item()
    sgd = next(r for r in res["runs"] if r["optimizer"] == "sgd")
    assert sgd["torch"]["test_loss"] == pytest.approx(test_loss, rel=1e-5)


@pytest.mark.slow
def test_every_run_reaches_openvino(results):
    out, res = results
    for run in res["runs"]:
        assert run["openvino"]["fp32"]["test_accuracy"] == pytest.approx(run["torch"]["test_accuracy"], abs=0.011)
        assert 0 <= run["openvino"]["int8"]["test_accuracy"] <= 1
        run_dir = out / f"{run['optimizer']}-seed0"
        for name in ("model.onnx", "model_fp32.xml", "model_fp32.bin", "model_int8.xml", "manifest.json"):
            assert (run_dir / name).is_file()


@pytest.mark.slow
def test_a_torch_dataset_per_split_is_accepted(tmp_path):
    data = {k: PairDataset(*v) for k, v in user_data().items() if k != "val"}
    res = compare.run(tmp_path / "ds", model=two_layer, data=data, optimizers=["sgd"], epochs=1,
                      batch_size=None, seeds=[0], precisions=[])
    run = res["runs"][0]
    assert len(run["history"]["step_loss"]) == 1                      # full batch: one step per epoch
    assert run["torch"]["test_accuracy"] is not None


def test_a_lambda_or_a_bad_setting_is_refused(tmp_path):
    with pytest.raises(ValueError, match="top level of a module"):
        compare.run(tmp_path / "x", model=lambda s, c, seed: nn.Linear(6, c), data=user_data())
    with pytest.raises(TypeError, match="unknown settings epoch"):
        compare.run(tmp_path / "y", epoch=3)
    with pytest.raises(ValueError, match="the train split has 3 inputs and 2 labels"):
        compare.run(tmp_path / "z", model=two_layer,
                    data={"train": (torch.zeros(3, 6), torch.zeros(2)), "test": user_data()["test"]})
