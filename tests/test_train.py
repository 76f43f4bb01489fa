"""The training loop: determinism, fairness across optimizers, step counts of
batch / stochastic / mini-batch gradient descent, divergence, checkpoints,
schedules and clipping wired in."""

import dataclasses
import math

import pytest
import torch

from descentlab.train import checkpoint, datasets, distributed, objective
from descentlab.train import run as run_module
from descentlab.train.run import RunConfig, build, train_run


@pytest.fixture(scope="module")
def digits():
    return datasets.load("digits")


@pytest.fixture
def built(monkeypatch):
    """The (model, optimizer, schedule) of the next train_run, kept for inspection."""
    holder = []
    real_build = run_module.build

    def capture(c, d):
        holder.append(real_build(c, d))
        return holder[-1]

    monkeypatch.setattr(run_module, "build", capture)
    return holder


def config(**kw):
    base = dict(dataset="digits", model="logreg", optimizer="adam", epochs=2, batch_size=64)
    return RunConfig(**{**base, **kw})


def test_same_seed_same_numbers(digits):
    a = train_run(config(), digits)
    b = train_run(config(), digits)
    assert a["history"]["step_loss"] == b["history"]["step_loss"]
    assert a["torch"] == b["torch"]


def test_other_seed_other_numbers(digits):
    a = train_run(config(seed=0), digits)
    b = train_run(config(seed=1), digits)
    assert a["history"]["step_loss"] != b["history"]["step_loss"]


def test_every_optimizer_starts_from_the_same_weights(digits):
    states = [build(config(optimizer=name), digits)[0].state_dict() for name in ("sgd", "adam", "rprop")]
    for other in states[1:]:
        for key in states[0]:
            assert torch.equal(states[0][key], other[key])


def test_every_optimizer_sees_the_same_batches_in_the_same_order(digits, monkeypatch):
    seen = {}
    real = distributed.epoch_batches

    def recording(x, y, batch_size, generator, shard):
        for xb, yb in real(x, y, batch_size, generator, shard):
            seen.setdefault(current, []).append(yb.clone())
            yield xb, yb

    monkeypatch.setattr(distributed, "epoch_batches", recording)
    for current in ("sgd", "adagrad", "linesearch"):
        train_run(config(optimizer=current, hparams={}), digits)
    assert len(seen["sgd"]) == 2 * math.ceil(len(digits.train) / 64)
    for name in ("adagrad", "linesearch"):
        assert all(torch.equal(a, b) for a, b in zip(seen["sgd"], seen[name]))
    # and the epochs are reshuffled
    per_epoch = len(seen["sgd"]) // 2
    assert not torch.equal(seen["sgd"][0], seen["sgd"][per_epoch])


@pytest.mark.parametrize("batch_size,steps_per_epoch", [(None, 1), (1, 768), (100, 8)])
def test_batch_stochastic_minibatch_step_counts(batch_size, steps_per_epoch):
    data = datasets.load("blobs2d")
    assert len(data.train) == 768
    record = train_run(RunConfig("blobs2d", "logreg", "sgd", {"lr": 0.01}, epochs=2,
                                 batch_size=batch_size), data)
    assert len(record["history"]["step_loss"]) == 2 * steps_per_epoch
    assert record["history"]["train_loss"][-1] < record["history"]["initial_val_loss"]


def test_full_batch_gradient_descent_is_the_gradient_of_the_whole_set(digits, built):
    """One step of batch GD equals a hand-made step on the full training set."""
    cfg = config(optimizer="sgd", hparams={"lr": 0.5}, epochs=1, batch_size=None)
    model, _, _ = build(cfg, digits)
    loss = objective.loss("classification", model(digits.train.x), digits.train.y)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    expected = [p.detach() - 0.5 * g for p, g in zip(model.parameters(), grads)]
    train_run(cfg, digits)
    for got, want in zip(built[0][0].parameters(), expected):
        torch.testing.assert_close(got.detach(), want)


def test_divergence_is_detected_and_recorded(digits):
    record = train_run(config(model="mlp", optimizer="sgd", hparams={"lr": 1e4}, epochs=3), digits)
    assert record["diverged"] is True
    assert record["diverged_epoch"] == 1
    assert len(record["history"]["train_loss"]) == 1


def test_checkpoint_rebuilds_the_trained_model(digits, tmp_path):
    record = train_run(config(), digits, out_dir=tmp_path)
    saved = checkpoint.load(tmp_path / "checkpoint.pt")
    assert saved["epoch"] == 2 and saved["optimizer"]["name"] == "adam"
    model = checkpoint.rebuild_model(saved)
    loss, acc = objective.evaluate(model, digits.test, "classification")
    assert acc == record["torch"]["test_accuracy"]
    assert loss == pytest.approx(record["torch"]["test_loss"], rel=1e-6)


def test_resume_from_an_epoch_checkpoint_ends_with_the_same_numbers(digits, tmp_path):
    full = train_run(config(epochs=4, schedule="step", schedule_kwargs={"step_size": 1}), digits)
    train_run(config(epochs=2, schedule="step", schedule_kwargs={"step_size": 1}), digits,
              out_dir=tmp_path)  # "killed" after epoch 2
    resumed = train_run(config(epochs=4, schedule="step", schedule_kwargs={"step_size": 1}), digits,
                        out_dir=tmp_path, resume=True)
    assert resumed["history"]["step_loss"] == full["history"]["step_loss"]
    assert resumed["history"]["lr"] == full["history"]["lr"]
    assert resumed["torch"] == full["torch"]


def test_schedule_changes_the_learning_rate_per_epoch(digits):
    record = train_run(config(optimizer="sgd", hparams={"lr": 0.1}, epochs=3, schedule="inverse_time",
                              schedule_kwargs={"decay": 1.0}), digits)
    assert record["history"]["lr"] == pytest.approx([0.1, 0.1 / 2, 0.1 / 3])


def test_per_iteration_momentum_schedule(digits, built):
    """Sutskever's schedule is stepped after every optimizer step, not every epoch."""
    cfg = config(optimizer="momentum", epochs=1, schedule="sutskever_momentum",
                 schedule_kwargs={"period": 5, "mu_max": 0.99})
    train_run(cfg, digits)
    steps = math.ceil(len(digits.train) / 64)  # 17
    optimizer = built[0][1]
    assert optimizer.param_groups[0]["momentum"] == pytest.approx(
        min(1 - 2 ** (-1 - math.log2(steps // 5 + 1)), 0.99))


def test_clipping_bounds_every_update(digits, built):
    """With clip_value v and SGD(lr=1), one full-batch step moves no weight by more than v."""
    cfg = config(optimizer="sgd", hparams={"lr": 1.0}, epochs=1, batch_size=None, clip_value=1e-3)
    before = build(cfg, digits)[0].state_dict()
    train_run(cfg, digits)
    after = built[0][0].state_dict()
    moved = max((after[k] - before[k]).abs().max().item() for k in before)
    assert 0.5e-3 < moved <= 1e-3 * (1 + 1e-5)


def test_line_search_trains_through_the_closure(digits):
    record = train_run(config(optimizer="linesearch", hparams={}), digits)
    assert record["history"]["train_loss"][-1] < record["history"]["initial_val_loss"]


@pytest.mark.parametrize("change,message", [
    (dict(optimizer="adma"), "did you mean 'adam'"),
    (dict(model="mpl"), "mlp"),
    (dict(hparams={"bta": 1}), "bta"),
    (dict(epochs=0), "epochs"),
    (dict(clip_norm=-1.0), "clip_norm"),
    (dict(schedule="stepp"), "step"),
    (dict(schedule="step", schedule_kwargs={"gama": 0.5}), "gama"),
])
def test_bad_configs_are_value_errors(digits, change, message):
    with pytest.raises(ValueError, match=message):
        train_run(dataclasses.replace(config(), **change), digits)
