"""Mini-batches from tensors already in memory: one seeded permutation per epoch.

Lecture 001 ("mini-batch with reshuffling"): every time one starts again from
the first sample, permute the order of the samples, then walk through them in
mini-batches. Lecture 000 ("Batch vs. Mini-batch"): the full batch is the
special case of one batch holding every sample.

A ``torch.utils.data.DataLoader`` would collate one sample at a time in
Python; here each batch is one gather from the whole in-memory array
(``benchmarks/batching.py`` times an epoch both ways). ``x`` and ``y`` must be
CPU tensors.
"""

import math

import torch


def epoch_batches(x, y, batch_size, generator, shard=(0, 1)):
    """Yield ``(xb, yb)`` for one epoch.

    The order is one ``torch.randperm(N, generator=generator)``, drawn anew at
    each call, so successive epochs are reshuffled and the same generator seed
    gives the same sequence of epochs. ``batch_size`` is an int (the last,
    partial batch is kept) or ``None`` for the full batch, which is yielded
    as is without drawing a permutation: the full-batch gradient does not
    depend on the order, and gathering a permuted copy of the whole data set
    would cost a copy of it every epoch.
    """
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x has {n} samples but y has {len(y)}")
    _check(batch_size)
    rank, world = shard
    if batch_size is None:
        yield (x, y) if world == 1 else (x[rank::world], y[rank::world])
        return
    order = torch.randperm(n, generator=generator).numpy()
    # The gather runs in numpy: single-threaded, it does not compete with the model's
    # threads for the cores, as torch's x[index] and index_select do
    # (benchmarks/batching.py times it beside index_select).
    xs, ys = x.numpy(), y.numpy()
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size][rank::world]
        yield torch.from_numpy(xs.take(index, axis=0)), torch.from_numpy(ys.take(index, axis=0))


def num_batches(n, batch_size):
    """How many batches ``epoch_batches`` yields for ``n`` samples."""
    _check(batch_size)
    return 1 if batch_size is None else math.ceil(n / batch_size)


def _check(batch_size):
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size < 1):
        raise ValueError(f"batch size must be a positive integer or None (full batch), got {batch_size!r}")
