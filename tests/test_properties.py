"""Property-based tests (hypothesis): what must hold for every input, not just the ones we thought of.

Optimizers, for every registry entry: finite gradients and valid hyperparameters
never give NaN/Inf parameters; a zero gradient moves nothing where the rule says
so; param groups do not leak into each other; a step with every ``.grad`` None
changes nothing. Dataset readers: random or truncated bytes raise the dataset
error (``ValueError``) and nothing else.
"""

import gzip
import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from descentlab import optimizers
from descentlab.train import cifar, idx
from test_data import idx_bytes, write_cifar_batch

# Small, and no deadline: CI machines are shared and slow. 10 examples per optimizer and
# property (17 optimizers x 4 properties), 30 per reader property.
QUICK = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
READERS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHAPES = ((3,), (2, 2))
NAMES = optimizers.available()

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)


def tensors(shape):
    return arrays(np.float32, shape, elements=finite).map(torch.from_numpy)


@st.composite
def hyperparameters(draw, name):
    """Valid overrides for ``name``: the lecture variants plus drawn numeric settings."""
    accepted = optimizers.defaults(name)
    hp = {k: draw(st.sampled_from(v)) for k, v in optimizers.info(name).variants.items()}
    ranges = {"lr": st.floats(1e-5, 1.0), "momentum": st.floats(0, 0.99), "weight_decay": st.floats(0, 0.1),
              "rho": st.floats(0, 0.99), "alpha": st.floats(0.5, 0.999),
              "betas": st.tuples(st.floats(0, 0.99), st.floats(0.9, 0.9999))}
    for key, strategy in ranges.items():
        if key in accepted and draw(st.booleans()):
            hp[key] = draw(strategy)
    return hp


def create(name, params, hp):
    try:
        return optimizers.create(name, params, **hp)
    except ValueError:  # a combination the rule forbids, e.g. nesterov with dampening
        assume(False)


def step(optimizer, params, grads):
    """One step with these gradients (a closure computing them, for the line search)."""
    def closure():
        with torch.enable_grad():
            loss = sum((p * g).sum() + 0.5 * p.square().sum() for p, g in zip(params, grads) if g is not None)
            for p, g in zip(params, grads):
                p.grad = None if g is None else g.clone()
        return loss.detach() if torch.is_tensor(loss) else torch.tensor(float(loss))

    closure()
    optimizer.step(closure)


def fresh_params(values):
    return [v.clone().requires_grad_() for v in values]


def random_grads(data):
    return [data.draw(tensors(s)) for s in SHAPES]


def stepped(data, name, hp, steps):
    """Random parameters, their optimizer, and ``steps`` random steps already taken."""
    params = fresh_params(random_grads(data))
    optimizer = create(name, params, hp)
    for _ in range(steps):
        step(optimizer, params, random_grads(data))
    return params, optimizer


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_finite_gradients_never_give_nan_or_inf(name, data):
    params, optimizer = stepped(data, name, data.draw(hyperparameters(name)), 0)
    for _ in range(data.draw(st.integers(1, 5))):
        step(optimizer, params, random_grads(data))
        assert all(torch.isfinite(p).all() for p in params), [p.detach() for p in params]


ZERO_GRADIENT_STILL = {   # rules whose update is a multiple of the current gradient
    "sgd": {"momentum": 0, "weight_decay": 0},
    "adagrad": {"weight_decay": 0},
    "rmsprop": {"momentum": 0, "weight_decay": 0},
}


@pytest.mark.parametrize("name", sorted(ZERO_GRADIENT_STILL))
@QUICK
@given(data=st.data())
def test_zero_gradient_moves_nothing(name, data):
    hp = {**data.draw(hyperparameters(name)), **ZERO_GRADIENT_STILL[name]}
    hp.pop("nesterov", None)
    params, optimizer = stepped(data, name, hp, data.draw(st.integers(0, 3)))   # some history first
    before = [p.detach().clone() for p in params]
    step(optimizer, params, [torch.zeros(s) for s in SHAPES])
    for p, b in zip(params, before):
        assert torch.equal(p.detach(), b)


# The line search tries one learning rate for the loss of all groups together, so its
# groups share the step by design (optimizers/linesearch.py).
PER_GROUP = [n for n in NAMES if not optimizers.info(n).needs_closure]


@pytest.mark.parametrize("name", PER_GROUP)
@QUICK
@given(data=st.data())
def test_param_groups_do_not_leak(name, data):
    """Group A's trajectory does not depend on group B's hyperparameters or gradients."""
    start = random_grads(data)
    hp_a, hp_b1, hp_b2 = (data.draw(hyperparameters(name)) for _ in range(3))
    trajectories, optimizers_ = [], []
    for hp_b in (hp_b1, hp_b2):
        params = fresh_params(start)
        optimizers_.append(create(name, [{"params": [params[0]], **hp_a}, {"params": [params[1]], **hp_b}], {}))
        trajectories.append(params)
    for _ in range(data.draw(st.integers(1, 4))):
        grad_a = data.draw(tensors(SHAPES[0]))
        for optimizer, params in zip(optimizers_, trajectories):
            step(optimizer, params, [grad_a, data.draw(tensors(SHAPES[1]))])
    assert torch.equal(trajectories[0][0].detach(), trajectories[1][0].detach())


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_step_with_every_grad_none_changes_nothing(name, data):
    params, optimizer = stepped(data, name, data.draw(hyperparameters(name)), data.draw(st.integers(0, 2)))
    for p in params:
        p.grad = None
    before = [p.detach().clone() for p in params]
    state = pickle.dumps(optimizer.state_dict())
    optimizer.step(lambda: torch.tensor(0.0))
    assert all(torch.equal(p.detach(), b) for p, b in zip(params, before))
    assert pickle.dumps(optimizer.state_dict()) == state


# ---- dataset readers ----------------------------------------------------------------

@READERS
@given(data=st.binary(max_size=512), gz=st.booleans(), wrap=st.booleans())
def test_idx_reader_on_random_bytes_raises_only_value_error(tmp_path_factory, data, gz, wrap):
    tmp_path = tmp_path_factory.mktemp("idx")
    path = tmp_path / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(data) if gz and wrap else data)   # a valid gzip of garbage, or garbage
    try:
        idx.read(path)
    except ValueError:
        pass


@READERS
@given(shape=st.lists(st.integers(0, 6), min_size=1, max_size=3), type_code=st.sampled_from(sorted(idx.DTYPES)),
       cut=st.floats(0, 1, exclude_max=True), gz=st.booleans())
def test_idx_reader_on_truncated_files_raises_value_error(tmp_path_factory, shape, type_code, cut, gz):
    array = np.zeros(shape, dtype=np.dtype(idx.DTYPES[type_code]).newbyteorder("="))
    full = idx_bytes(array, type_code)
    encoded = gzip.compress(full) if gz else full
    tmp_path = tmp_path_factory.mktemp("idx")
    path = tmp_path / ("f.gz" if gz else "f")
    path.write_bytes(encoded[:math.floor(cut * len(encoded))])
    with pytest.raises(ValueError) as error:
        idx.read(path)
    assert str(path) in str(error.value)
    path.write_bytes(encoded)            # control: the whole file reads back
    assert idx.read(path).shape == tuple(shape)


@READERS
@given(data=st.binary(max_size=512))
def test_cifar_reader_on_random_bytes_raises_only_value_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cifar") / "data_batch_1"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="data_batch_1"):
        cifar.read_batch(path)


junk = st.recursive(st.none() | st.booleans() | st.integers(-300, 300) | st.floats(allow_nan=True)
                    | st.text(max_size=4) | st.binary(max_size=4),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=8)
cifar_arrays = arrays(st.sampled_from([np.uint8, np.int16, np.float32]),
                      st.tuples(st.integers(0, 3), st.sampled_from([3072, 5])))


@READERS
@given(data=cifar_arrays | junk, labels=junk | st.lists(st.integers(-2, 12), max_size=4), cut=st.floats(0, 1))
@example(data=np.zeros((1, 3072), np.uint8), labels={}, cut=1.0)   # found by CI: np.asarray({}) is a TypeError
def test_cifar_reader_on_malformed_batches_raises_only_value_error(tmp_path_factory, data, labels, cut):
    """Well-formed pickles holding the wrong things, whole or cut short."""
    path = tmp_path_factory.mktemp("cifar") / "data_batch_1"
    write_cifar_batch(path, data, [0])
    entries = pickle.loads(path.read_bytes())
    entries[b"labels"] = labels
    encoded = pickle.dumps(entries, protocol=2)
    path.write_bytes(encoded[:max(1, math.floor(cut * len(encoded)))] if cut < 1 else encoded)
    try:
        images, got = cifar.read_batch(path)
    except ValueError as exc:
        assert "data_batch_1" in str(exc)
        return
    assert images.shape == (len(got), 3, 32, 32) and images.dtype == np.uint8   # accepted: it is a batch
