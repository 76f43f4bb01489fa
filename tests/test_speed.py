"""The speed-ups of training change no number a user sees: a run trained the fast way
(convolutions in channels_last, pooling before ReLU, the line search scoring its candidates
with forward passes only) ends at the test accuracy of a plain FP32 eager loop written here
independently (textbook conv-ReLU-pool order, NCHW, torch.optim where it has the optimizer,
the line search through its closure alone), on the same initial weights and batches."""

import pytest
import torch
from torch import nn

from descentlab import models, optimizers
from descentlab.train import datasets
from descentlab.train import run as run_module
from descentlab.train.batches import epoch_batches
from descentlab.train.run import RunConfig, train_run
from test_models import textbook_features

EPOCHS, BATCH = 3, 32


@pytest.fixture(scope="module")
def digits():
    return datasets.load("digits")


def plain_run(name, data):
    """Test accuracy and loss of the plain loop, from the run's initial weights and batch order."""
    model = models.create("cnn", data.input_shape, data.num_classes, seed=0)
    model.features = textbook_features(model)
    assert not any(p.is_contiguous(memory_format=torch.channels_last) and p.dim() == 4 and p.shape[1] > 1
                   for p in model.parameters())
    if name == "linesearch":  # no torch.optim counterpart: ours, through its closure alone
        opt = optimizers.create("linesearch", model.parameters())
    else:
        torch_class, kwargs = optimizers.info(name).counterpart(optimizers.defaults(name))
        opt = torch_class(model.parameters(), **kwargs)
    generator = torch.Generator().manual_seed(0)
    for _ in range(EPOCHS):
        for xb, yb in epoch_batches(data.train.x, data.train.y, BATCH, generator):
            def closure():
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(xb), yb)
                loss.backward()
                return loss

            opt.step(closure)
    with torch.no_grad():
        logits = model(data.test.x)
    return ((logits.argmax(1) == data.test.y).float().mean().item(),
            nn.functional.cross_entropy(logits, data.test.y).item())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sgd", "adam", "linesearch"])
def test_fast_training_ends_at_the_plain_loops_accuracy(name, digits):
    config = RunConfig("digits", "cnn", name, epochs=EPOCHS, batch_size=BATCH, seed=0)
    fast = train_run(config, digits)["torch"]
    accuracy, loss = plain_run(name, digits)
    assert abs(fast["test_accuracy"] - accuracy) <= 1e-3
    assert fast["test_loss"] == pytest.approx(loss, rel=1e-3)


@pytest.mark.parametrize("flag,expected", [(None, True), (True, True), (False, False)])
def test_conv_nets_train_in_channels_last_on_the_cpu_unless_told_not_to(flag, expected, digits, monkeypatch):
    built = []
    real_build = run_module.build
    monkeypatch.setattr(run_module, "build", lambda *a: built.append(real_build(*a)) or built[-1])
    train_run(RunConfig("digits", "cnn", "sgd", epochs=1, batch_size=BATCH, seed=0, channels_last=flag), digits)
    conv = built[0][0].features[3]          # 32 -> 64 channels: the two layouts differ
    assert isinstance(conv, nn.Conv2d)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) is expected
    assert conv.weight.is_contiguous() is not expected
