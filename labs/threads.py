"""One intra-op thread while a lab runs.

The labs step tensors of two to a few hundred numbers. On them torch's thread
pool only adds synchronisation, which on a loaded machine costs far more than
the arithmetic, so every lab entry point runs inside ``one_thread()``.
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
