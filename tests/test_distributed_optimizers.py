"""Every registry optimizer under DistributedDataParallel and inside
ZeroRedundancyOptimizer (state sharded) on 2 gloo processes equals the plain
one-process loop, parameter for parameter.

The reference is the textbook loop on the whole global batch (mean loss,
backward, ``step(closure)``), written here without train/distributed.py; the
ranks use that module's batch shares and loss weights. float64, so that the
only difference left is the order of the all-reduce's additions: 1e-12.
The global batches are 16, 16, 16, 3 samples: the last one is shared 2 + 1,
and an unweighted average of the ranks' mean losses (the ablation) misses.
"""

import pytest
import torch
import torch.nn.functional as F

from descentlab import optimizers
from distributed_cases import free_port, rank_environment, spawn

N, FEATURES, CLASSES, BATCH, EPOCHS = 51, 6, 3, 16, 2
TOLERANCE = 1e-12


def data():
    g = torch.Generator().manual_seed(1)
    return torch.randn(N, FEATURES, generator=g, dtype=torch.float64), \
        torch.randint(0, CLASSES, (N,), generator=g)


def net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(FEATURES, 8), torch.nn.Tanh(),
                               torch.nn.Linear(8, CLASSES)).double()


def batches(generator):
    order = torch.randperm(N, generator=generator)
    return [order[s:s + BATCH] for s in range(0, N, BATCH)]


def reference(name):
    x, y = data()
    model = net()
    optimizer = optimizers.create(name, model.parameters())
    generator = torch.Generator().manual_seed(0)
    for _ in range(EPOCHS):
        for index in batches(generator):
            def closure():
                optimizer.zero_grad()
                loss = F.cross_entropy(model(x[index]), y[index])
                loss.backward()
                return loss.detach()
            optimizer.step(closure)
    return [p.detach().clone() for p in model.parameters()]


def _rank(rank, port, out):
    from descentlab.train import distributed, objective

    rank_environment(rank, 2, port)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)  # as the reference: float64 draws other initial weights
    group = distributed.join()
    x, y = data()
    results = {}
    for name in optimizers.available():
        for mode in ("ddp", "zero", "unweighted"):
            if mode == "unweighted" and name != "sgd":
                continue
            model = net()
            ddp = group.wrap(model)
            if mode == "zero":
                try:
                    optimizer = distributed.zero_optimizer(name, model.parameters())
                except ValueError as exc:
                    results[name, mode] = str(exc)
                    continue
            else:
                optimizer = optimizers.create(name, model.parameters())
            generator = torch.Generator().manual_seed(0)
            for _ in range(EPOCHS):
                for xb, yb, size in group.batches(x, y, BATCH, generator):
                    def closure():
                        optimizer.zero_grad()
                        if mode == "unweighted":
                            loss = objective.loss("classification", ddp(xb), yb)
                        else:
                            loss = group.loss("classification", ddp(xb), yb, size)
                        loss.backward()
                        return group.mean(loss.detach())
                    optimizer.step(closure)
            results[name, mode] = [p.detach().clone() for p in model.parameters()]
    torch.save(results, out / f"rank{rank}.pt")
    distributed.leave(group)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranks")
    spawn(_rank, (free_port(), out), timeout=150)
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


@pytest.fixture(scope="module", autouse=True)
def float64():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def _max_diff(a, b):
    return max(float((p.detach() - q.detach()).abs().max()) for p, q in zip(a, b))


@pytest.mark.slow
@pytest.mark.parametrize("name", optimizers.available())
def test_ddp_equals_one_process(ranks, name):
    expected = reference(name)
    assert _max_diff(expected, [p.double() for p in net().parameters()]) > 1e-4  # the steps moved it
    for rank in ranks:
        assert _max_diff(rank[name, "ddp"], expected) < TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("name", optimizers.available())
def test_zero_redundancy_equals_one_process(ranks, name):
    if optimizers.info(name).needs_closure:
        assert "cannot be sharded" in ranks[0][name, "zero"]
        return
    expected = reference(name)
    for rank in ranks:
        assert _max_diff(rank[name, "zero"], expected) < TOLERANCE


@pytest.mark.slow
def test_unweighted_rank_average_is_not_the_global_gradient(ranks):
    assert _max_diff(ranks[0]["sgd", "unweighted"], reference("sgd")) > 1e-8
