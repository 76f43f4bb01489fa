"""``torchrun --nproc-per-node 2 -m descentlab train``: DistributedDataParallel
over 2 gloo ranks equals the one-process run with the same global batch.

The run's first epoch is trained by one process, its second by 2 ranks under
torchrun from that checkpoint (``--resume``), so one launch tests both. The
batch of 154 splits digits' 1079 training samples into 7 batches of 154
(77 + 77 per rank) and one of 1 sample: rank 1's share of it is empty.
float32, the sums differently ordered: measured at most 4.5e-8 apart on the
weights (2 epochs of Adam, batch 33) and 4.8e-7 on a step's loss; allowed 1e-6.
"""

import dataclasses
import json

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from descentlab.train import checkpoint, datasets, distributed
from descentlab.train.run import RunConfig, train_into, train_run
from distributed_cases import finish, torchrun

BATCH, TOLERANCE = 154, 1e-6
# fp32: the tolerance is float32's (auto would train in bf16 on an AMX CPU, where the ranks' sums
# round differently by ~1e-4)
CONFIG = RunConfig(dataset="digits", model="mlp", optimizer="adam", epochs=2, batch_size=BATCH, precision="fp32")


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_shares_partition_every_global_batch():
    x, y = torch.arange(23.0).reshape(23, 1), torch.arange(23)
    single = [yb for _, yb, _ in distributed.SINGLE.batches(x, y, 5, torch.Generator().manual_seed(3))]
    for world in (2, 3):
        shares = [list(distributed.Group(rank=r, world_size=world).batches(
            x, y, 5, torch.Generator().manual_seed(3))) for r in range(world)]
        for k, batch in enumerate(single):
            got = torch.cat([share[k][1] for share in shares])
            assert sorted(got.tolist()) == sorted(batch.tolist())
            assert all(share[k][2] == len(batch) for share in shares)
    assert [len(yb) for _, yb, _ in shares[2]] == [1, 1, 1, 1, 1]  # 5 = 2 + 2 + 1; 3 = 1 + 1 + 1


def test_an_empty_share_under_bf16_autocast_has_the_loss_dtype_of_the_others():
    """The ranks all-reduce their losses (``Group.mean``): a rank whose share of the last batch is
    empty must hand in the dtype the others do, or gloo aborts ("4 vs 2" bytes), as it did under
    bf16 autocast on an AMX CPU. torch computes bf16 on any CPU, so this runs everywhere."""
    model = torch.nn.Linear(4, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        full = distributed.Group(rank=0, world_size=2).loss("classification", model(torch.randn(2, 4)),
                                                            torch.tensor([0, 2]), 3)
        empty = distributed.Group(rank=1, world_size=2).loss("classification", model(torch.randn(0, 4)),
                                                             torch.zeros(0, dtype=torch.long), 3)
    assert full.dtype == empty.dtype == torch.float32
    empty.backward()
    assert all(p.grad is not None and not p.grad.any() for p in model.parameters())


def test_a_batch_smaller_than_the_ranks_is_refused():
    dataset = datasets.load("digits")
    config = RunConfig(dataset="digits", model="logreg", optimizer="sgd", batch_size=1)
    with pytest.raises(ValueError, match="cannot be shared by 2 ranks"):
        train_run(config, dataset, group=distributed.Group(rank=0, world_size=2))


@pytest.mark.slow
def test_torchrun_train_resumes_and_equals_one_process(tmp_path, one_thread):
    expected = train_into(CONFIG, tmp_path / "one", quiet=True)
    train_into(dataclasses.replace(CONFIG, epochs=1), tmp_path / "ddp", quiet=True)
    after_one = checkpoint.load(tmp_path / "ddp" / "checkpoint.pt")["model_state"]

    code, out, err = finish(torchrun(["train", "--dataset", "digits", "--model", "mlp", "--optimizer",
                                      "adam", "--epochs", "2", "--batch-size", str(BATCH), "--resume",
                                      "--train-precision", "fp32",
                                      "--quiet", "--out", str(tmp_path / "ddp"),
                                      "--tensorboard", str(tmp_path / "tb")]))
    assert code == 0, err[-3000:]
    assert out.count("test accuracy") == 1  # rank 0 alone prints
    record = json.loads((tmp_path / "ddp" / "run.json").read_text())
    host = record["trained_on"]["host"]
    assert record["distributed"] == {"world_size": 2, "backend": "gloo", "hosts": [host, host]}
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == ["checkpoint.pt", "run.json"]

    steps = len(expected["history"]["step_loss"])
    assert steps == 2 * 8 and len(record["history"]["step_loss"]) == steps
    for key in ("train_loss", "val_loss", "step_loss", "val_accuracy"):
        assert record["history"][key] == pytest.approx(expected["history"][key], abs=TOLERANCE), key
    assert record["torch"]["test_loss"] == pytest.approx(expected["torch"]["test_loss"], abs=TOLERANCE)
    one = checkpoint.load(tmp_path / "one" / "checkpoint.pt")["model_state"]
    ddp = checkpoint.load(tmp_path / "ddp" / "checkpoint.pt")
    assert ddp["epoch"] == 2
    assert _max_diff(one, ddp["model_state"]) < TOLERANCE
    assert _max_diff(after_one, ddp["model_state"]) > 1e-3  # the DDP epoch moved the weights
    # rank 0 alone logs, from the step the run resumed at: one event file, each step once
    assert len(list((tmp_path / "tb" / "adam-seed0").iterdir())) == 1
    events = EventAccumulator(str(tmp_path / "tb" / "adam-seed0"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/loss")] == list(range(steps // 2 + 1, steps + 1))


def _max_diff(a, b):
    return max(float((a[k] - b[k]).abs().max()) for k in a)
