"""One intra-op thread while a lab runs.

The labs step tensors of two to a few hundred numbers. On them torch's thread
pool only adds synchronisation, and on a loaded 2-core machine a backward pass
of a 6-parameter model took 40 ms with two threads against well under 1 ms
with one, so every lab entry point runs inside ``one_thread()``.
"""

import contextlib

import torch


@contextlib.contextmanager
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
