"""The model zoo: output shapes on the digits and Fashion-MNIST input shapes, layer
sizes against hand counts, the lecture's sigmoid neuron, seeded initialisation,
and ONNX export with a dynamic batch axis checked in ONNX Runtime."""

import io
import math
import warnings

import numpy as np
import pytest
import torch

from descentlab import models

DIGITS, FASHION = (1, 8, 8), (1, 28, 28)
# (name, options, num_classes): every model, and both cnn variants.
ZOO = [("neuron", {}, 1), ("logreg", {}, 10), ("mlp", {}, 10), ("mlp", {"hidden": (32, 16)}, 10),
       ("cnn", {}, 10), ("cnn", {"variant": "fmnist_2c2d"}, 10), ("lenet", {}, 10)]


def label(case):
    name, kw, _ = case
    return name + "".join(f"-{v}" for v in kw.values())


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_available_and_did_you_mean():
    assert models.available() == ["cnn", "lenet", "logreg", "mlp", "neuron"]
    with pytest.raises(ValueError, match=r"unknown model 'lenett'; did you mean 'lenet'"):
        models.create("lenett", FASHION, 10)


@pytest.mark.parametrize("shape", [DIGITS, FASHION], ids=["digits", "fashion"])
@pytest.mark.parametrize("case", ZOO, ids=label)
def test_output_shape(case, shape):
    name, kw, classes = case
    model = models.create(name, shape, classes, **kw)
    assert model(torch.randn(3, *shape)).shape == (3, classes)


@pytest.mark.parametrize("name,kw,expected", [
    # Hand counts for 28x28 inputs: weights + biases, layer by layer.
    ("logreg", {}, 784 * 10 + 10),
    ("mlp", {"hidden": (32, 16)}, 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10),
    ("cnn", {}, (32 * 9 + 32) + (64 * 32 * 9 + 64) + (64 * 7 * 7 * 128 + 128) + (128 * 10 + 10)),
    # DeepOBS fmnist_2c2d: 3,274,634 parameters.
    ("cnn", {"variant": "fmnist_2c2d"}, (32 * 25 + 32) + (64 * 32 * 25 + 64) + (64 * 7 * 7 * 1024 + 1024)
     + (1024 * 10 + 10)),
    ("lenet", {}, (6 * 25 + 6) + (16 * 6 * 25 + 16) + (16 * 7 * 7 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)),
])
def test_layer_sizes(name, kw, expected):
    assert count(models.create(name, FASHION, 10, **kw)) == expected


def test_fmnist_2c2d_initialisation_follows_deepobs():
    model = models.create("cnn", FASHION, 10, variant="fmnist_2c2d")
    weights = torch.cat([m.weight.flatten() for m in model.modules() if hasattr(m, "weight")])
    biases = torch.cat([m.bias.flatten() for m in model.modules() if hasattr(m, "bias")])
    assert torch.all(biases == 0.05)
    assert weights.abs().max() <= 0.1
    # A normal(0, 0.05) truncated at ±2 sigma has std 0.05 * 0.8796.
    assert weights.std().item() == pytest.approx(0.05 * 0.8796, rel=0.02)


def test_neuron_is_the_lecture_sigmoid():
    """Lecture 002: with w = 0.5, b = 0 the loss on (0.5, 0.2), (2.5, 0.9) is 0.073."""
    neuron = models.create("neuron", (1,), 1)
    with torch.no_grad():
        neuron.w.fill_(0.5)
        neuron.b.fill_(0.0)
    x, y = torch.tensor([[0.5], [2.5]]), torch.tensor([[0.2], [0.9]])
    out = neuron(x)
    expected = [1 / (1 + math.exp(-(0.5 * v + 0.0))) for v in (0.5, 2.5)]
    np.testing.assert_allclose(out[:, 0].detach().numpy(), expected, rtol=1e-6)
    assert 0.5 * ((y - out) ** 2).sum().item() == pytest.approx(0.073, abs=5e-4)
    assert [n for n, _ in neuron.named_parameters()] == ["w", "b"]


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="num_classes=1"):
        models.create("neuron", (2,), 2)
    with pytest.raises(ValueError, match=r"needs image input \(C, H, W\)"):
        models.create("cnn", (2,), 2)
    with pytest.raises(ValueError, match="at least 4x4"):
        models.create("lenet", (1, 3, 3), 10)
    with pytest.raises(ValueError, match=r"model 'mlp' has no option 'hiden' \(options: hidden\)"):
        models.create("mlp", DIGITS, 10, hiden=(4,))
    with pytest.raises(ValueError, match="hidden must be positive"):
        models.create("mlp", DIGITS, 10, hidden=(0,))
    with pytest.raises(ValueError, match="unknown variant"):
        models.create("cnn", DIGITS, 10, variant="resnet")
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        models.create("logreg", DIGITS, 0)


@pytest.mark.parametrize("case", ZOO, ids=label)
def test_seeded_initialisation(case):
    name, kw, classes = case
    torch.manual_seed(123)
    a = models.create(name, DIGITS, classes, seed=3, **kw).state_dict()
    torch.manual_seed(999)
    torch.rand(17)
    b = models.create(name, DIGITS, classes, seed=3, **kw).state_dict()
    c = models.create(name, DIGITS, classes, seed=4, **kw).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_create_leaves_the_global_random_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(4)
    torch.manual_seed(5)
    models.create("cnn", FASHION, 10, seed=1)
    assert torch.equal(torch.rand(4), expected)


@pytest.mark.slow
@pytest.mark.parametrize("case", ZOO, ids=label)
def test_onnx_export_with_dynamic_batch(case):
    import onnxruntime as ort

    name, kw, classes = case
    model = models.create(name, DIGITS, classes, **kw).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(2, *DIGITS),), buffer,
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, external_data=False)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x"]
    for batch in (1, 7):
        x = torch.randn(batch, *DIGITS)
        [got] = session.run(None, {"x": x.numpy()})
        with torch.no_grad():
            np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-4, atol=1e-5)


def textbook_features(model):
    """The same layers in the textbook order conv, ReLU, max-pool (an independent reference
    for the pool-then-ReLU order the models use)."""
    from torch import nn

    layers = list(model.features)
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    pools = [m for m in layers if isinstance(m, nn.MaxPool2d)]
    return nn.Sequential(*(m for conv, pool in zip(convs, pools) for m in (conv, nn.ReLU(), pool)), nn.Flatten())


@pytest.mark.parametrize("case", [c for c in ZOO if c[0] in ("cnn", "lenet")], ids=label)
def test_pooling_before_relu_is_exactly_the_textbook_block(case):
    """Pool-then-ReLU gives bit-identical outputs and gradients to ReLU-then-pool, on inputs
    with all-negative windows, exact ties and odd map sizes (fmnist_2c2d's ceil-mode pooling)."""
    name, kw, classes = case
    model = models.create(name, FASHION, classes, seed=3, **kw)
    x = torch.randn(6, *FASHION)
    x[0] = -1.0                      # every window negative
    x[1, :, ::2, ::2] = x[1, :, 1::2, 1::2] = 0.5  # ties inside windows
    reference = textbook_features(model)
    ours = model.features(x)
    assert torch.equal(ours, reference(x))
    grads = []
    for features in (model.features, reference):
        model.zero_grad()
        model.classifier(features(x)).logsumexp(1).sum().backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*grads))
