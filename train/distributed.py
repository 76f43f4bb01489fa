"""Training over several processes with torch.distributed, as ``torchrun`` launches them.

``torchrun --nproc-per-node N [--nnodes M --rdzv-endpoint HOST:PORT] -m descentlab train ...``
starts N processes on each of M machines and gives each one ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in its
environment. ``join()`` turns them into a process group (gloo on the CPU, nccl
on CUDA); outside torchrun it returns ``SINGLE``, the one-process group, and
the training loop runs exactly as it always did.

Data parallelism, as ``DistributedDataParallel`` does it: every rank holds the
whole model; after each backward pass DDP averages the gradients over the
ranks, so every rank takes the same optimizer step. Every rank draws the same
seeded permutation (same generator seed) and keeps a disjoint share of each
global batch of B samples: positions r, r+W, r+2W, ... of the batch, the
strided split of ``torch.utils.data.DistributedSampler`` applied batch by batch
so that the global batch is the one-process batch. The global loss is the
mean over the n samples of the batch; rank r's loss over its n_r samples is
scaled by W * n_r / n, so that DDP's average, (1/W) sum_r W n_r/n grad(mean_r),
is the gradient of that global mean, also on the last, partial batch, whose
shares may differ by one sample or be empty.

Optimizer state sharded over ranks (ZeRO stage 1): ``zero_optimizer``.
"""

import dataclasses
import os
import platform

import torch

from descentlab import optimizers
from descentlab.train import objective
from descentlab.train.batches import epoch_batches


@dataclasses.dataclass(frozen=True)
class Group:
    """This process's place among the ranks; ``SINGLE`` when there is one process."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = None

    @property
    def writes(self):
        """Rank 0 alone writes the checkpoint, history and results."""
        return self.rank == 0

    def device(self, wanted):
        """The torch device this rank trains on: on CUDA, the GPU of its local rank."""
        if wanted.startswith("cuda") and self.world_size > 1:
            return f"cuda:{self.local_rank}"
        return wanted

    def check_batch_size(self, batch_size):
        """ValueError when a batch (an int, None: full) has fewer samples than there are ranks."""
        if batch_size is not None and batch_size < self.world_size:
            raise ValueError(f"--batch-size {batch_size} cannot be shared by {self.world_size} ranks: "
                             f"use a batch of at least {self.world_size} samples")

    def wrap(self, model):
        """``model`` itself, or inside ``DistributedDataParallel`` when there are several ranks."""
        if self.world_size == 1:
            return model
        device = next(model.parameters()).device
        return torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device] if device.type == "cuda" else None)

    def batches(self, x, y, batch_size, generator):
        """``(xb, yb, n)``: this rank's share of each global batch, and n, the global batch's size."""
        n = len(x)
        step = batch_size or n
        sizes = (min(step, n - start) for start in range(0, n, step))
        shard = (self.rank, self.world_size)
        for size, (xb, yb) in zip(sizes, epoch_batches(x, y, batch_size, generator, shard=shard)):
            yield xb, yb, size

    def loss(self, task, outputs, y, size):
        """This rank's loss, scaled so that DDP's gradient average is the
        gradient of the mean loss over the global batch of ``size`` samples."""
        if self.world_size == 1:
            return objective.loss(task, outputs, y)
        if len(y) == 0:
            # An empty share still joins DDP's all-reduce: zero gradients for every parameter. Its
            # loss is float32 as the other ranks' is (under bf16 autocast the outputs are bf16 while
            # the loss functions compute in float32): ``mean`` all-reduces ranks' losses of one dtype.
            return outputs.float().sum() * 0.0
        return objective.loss(task, outputs, y) * (self.world_size * len(y) / size)

    def mean(self, loss):
        """The global batch's mean loss, from every rank's ``loss`` (the same float on all ranks)."""
        if self.world_size == 1:
            return loss
        total = loss.detach().clone()
        torch.distributed.all_reduce(total)
        return total / self.world_size

    def first(self, function, *args):
        """``function(*args)`` computed on rank 0 and handed to every rank; an
        exception raised there is raised on every rank (so no rank waits for
        a result that never comes)."""
        if self.world_size == 1:
            return function(*args)
        box = [None, None]
        if self.writes:
            try:
                box[0] = function(*args)
            except Exception as exc:  # handed to every rank, raised below
                box[1] = exc
        torch.distributed.broadcast_object_list(box, src=0)
        if box[1] is not None:
            raise box[1]
        return box[0]

    def describe(self):
        """What ``run.json`` records about the processes that trained the run."""
        hosts = [platform.node()]
        if self.world_size > 1:
            hosts = [None] * self.world_size
            torch.distributed.all_gather_object(hosts, platform.node())
        return {"world_size": self.world_size, "backend": self.backend, "hosts": hosts}


SINGLE = Group()


def launched():
    """True in a process started by ``torchrun`` (or any launcher that sets the env:// variables)."""
    return all(key in os.environ for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"))


def join(device="cpu", timeout=None):
    """The process group of this process: ``SINGLE`` outside torchrun, else a new
    (or the existing) default group, gloo for the CPU, nccl for CUDA.
    ``timeout`` (a timedelta): how long a collective may wait for a slow rank."""
    if not launched() or int(os.environ["WORLD_SIZE"]) == 1:
        return SINGLE
    dist = torch.distributed
    if not dist.is_initialized():
        cuda = device.startswith("cuda")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group("nccl" if cuda else "gloo", timeout=timeout)
    return Group(rank=dist.get_rank(), world_size=dist.get_world_size(),
                 local_rank=int(os.environ.get("LOCAL_RANK", 0)), backend=dist.get_backend())


def leave(group):
    """Close the process group ``join`` opened (nothing for ``SINGLE``)."""
    if group.world_size > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def placement():
    """Where this process runs: ``{"host", "rank", "threads", "cores"}`` (rank 0 outside
    torchrun; ``threads``: torch's; ``cores``: ``cpu_cores()``)."""
    return {"host": platform.node(), "rank": int(os.environ.get("RANK", 0)),
            "threads": torch.get_num_threads(), "cores": cpu_cores()}


def cpu_cores():
    """The CPU cores this process may run on, sorted (its affinity mask); None where the OS does not say."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def check_device(device):
    """ValueError unless ``device`` is ``cpu`` or a CUDA device present here."""
    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise ValueError(f"--train-device must be cpu or cuda (or cuda:N), got '{device}'")
    if not torch.cuda.is_available():
        raise ValueError(f"--train-device {device}: no CUDA device here (torch.cuda.is_available() "
                         "is False); train on cpu")


def zero_optimizer(name, params, **hparams):
    """The registry optimizer ``name`` inside ``torch.distributed.optim.ZeroRedundancyOptimizer``:
    each rank keeps the state of its share of the parameters, updates that
    share, and broadcasts it to the others.

    Not for optimizers that re-evaluate the loss (``linesearch``): each rank
    would try its candidates on its own share while the others move theirs,
    a different algorithm; those raise ValueError (plain DDP runs them)."""
    from torch.distributed.optim import ZeroRedundancyOptimizer

    info = optimizers.info(name)
    if info.needs_closure:
        raise ValueError(f"'{name}' re-evaluates the loss at each step and cannot be sharded "
                         "with ZeroRedundancyOptimizer; train it with plain DDP")
    return ZeroRedundancyOptimizer(list(params), optimizer_class=info.cls,
                                   **{**optimizers.defaults(name), **hparams})
