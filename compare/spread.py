"""A comparison's runs spread over the ranks of ``torchrun``.

``torchrun --nproc-per-node N [--nnodes M --rdzv-endpoint HOST:PORT] -m descentlab compare ...``
starts the same command on every rank. Each (optimizer, seed) run trains
whole on one rank, the i-th run of the list on rank i mod W (every run is a
one-process run: the same numbers as without torchrun, up to the rounding of
another thread count); each run's ``run.json`` records the rank and host that
trained it (``trained_on``). Rank 0 alone writes ``compare.json`` and
``tuning.json`` (the learning-rate search runs there, its result handed to
every rank), gathers every run's record and writes ``results.json`` and the
report. Each run's directory is written by the rank that trained it, on its
machine: with ``--out`` on a shared filesystem, ``--resume`` finds every
finished run wherever it trained.

A rank that dies (killed, out of memory, an error) stops the command:
torchrun stops the other ranks, and each of them says, in one line, which
rank did not finish; every finished run's files stay, and the same command
with ``--resume`` completes the comparison.
"""

import dataclasses
import datetime
import signal
import sys
import threading

import torch.distributed as dist

from descentlab.train import distributed

_FINISHED = "descentlab/compare/finished/"


# Rank 0 may wait this long for the last rank's runs (gloo's default is 30 minutes);
# a rank that dies is noticed at once, its connections closing.
WAIT = datetime.timedelta(hours=24)


def join():
    """The ranks of this comparison (``distributed.SINGLE`` outside torchrun).
    gloo even with CUDA: the ranks exchange Python objects, not tensors."""
    return distributed.join("cpu", timeout=WAIT)


def run_all(group, tasks, workers, quiet, run_tasks, out):
    """Every run's record in the order of ``tasks`` on rank 0 (None on the other
    ranks), training this rank's share with ``run_tasks(tasks, workers, quiet)``."""
    if group.world_size == 1:
        return run_tasks(tasks, workers, quiet)
    mine = [dataclasses.replace(task, config=_on_this_rank(task.config, group))
            for task in tasks[group.rank::group.world_size]]
    previous = _stop_cleanly(group, out)
    try:
        records = run_tasks(mine, workers, quiet or not group.writes)
        _store().set(f"{_FINISHED}{group.rank}", "1")
        shares = [None] * group.world_size if group.writes else None
        try:
            dist.gather_object(records, shares, dst=0)
        except RuntimeError as exc:  # a peer's connection closed under the gather
            _fail(group, out, type(exc).__name__)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    distributed.leave(group)
    if not group.writes:
        return None
    return [shares[i % group.world_size][i // group.world_size] for i in range(len(tasks))]


def _on_this_rank(config, group):
    """The run's config with ``cuda`` meaning this rank's GPU."""
    return dataclasses.replace(config, device=group.device(config.device))


def _store():
    return dist.distributed_c10d._get_default_store()


def _unfinished(group):
    """The other ranks that have not said they finished their runs."""
    try:
        store = _store()
        return [r for r in range(group.world_size)
                if r != group.rank and not store.check([f"{_FINISHED}{r}"])]
    except Exception:  # the store went down with its host: say what is known
        return []


def _fail(group, out, cause=None):
    """One line naming the rank(s) that did not finish, then exit 1."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # torchrun's SIGTERM must not print it twice
    lost = _unfinished(group)
    who = f"rank {', '.join(map(str, lost))}" if lost else "another rank"
    because = f" ({cause})" if cause else ""
    print(f"descentlab compare: error: {who} of {group.world_size} died before finishing its runs"
          f"{because}, so rank {group.rank} stopped too; every finished run is kept in {out}: "
          "rerun the same command with --resume to complete the comparison",
          file=sys.stderr, flush=True)
    raise SystemExit(1)


def _stop_cleanly(group, out):
    """Turn torchrun's SIGTERM (sent when another rank died) into ``_fail``;
    returns the handler it replaced (None off the main thread, where Python
    cannot install one)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: _fail(group, out))
