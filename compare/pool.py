"""The worker pool: how many processes train a comparison's runs at once, the
cores each one runs on, and the loop that hands them the runs.

One worker (the default for a comparison of one or two runs) runs every run in
this process; several are spawned processes, each pinned to its own share of
the cores with one torch thread per core, and each killed with the process
that started it.
"""

import contextlib
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed

from descentlab import optimizers
from descentlab.compare.task import run_task
from descentlab.train import distributed
from descentlab.train.progress import Progress


def usable_cores():
    """How many CPU cores this process may run on (its affinity mask, where the OS has one)."""
    cores = distributed.cpu_cores()
    return len(cores) if cores is not None else (os.cpu_count() or 1)


def worker_count(workers, runs, ranks=1):
    """``workers``, or for None (automatic) one process per core, each with one torch thread,
    as long as every worker gets at least two runs: a worker's start-up (importing torch and
    OpenVINO, loading the data, a few seconds) is paid back only over several runs, and a
    comparison of one or two runs stays in this process with all the cores' threads.
    Under ``torchrun`` the ranks are the processes: one worker each."""
    if workers is not None:
        return workers
    if ranks > 1:
        return 1
    return max(1, min(usable_cores(), runs // 2))


def run_all(tasks, workers, quiet):
    """Every task's record (``task.run_task``), in the order of ``tasks``: with one worker
    each run in turn in this process, with several in spawned worker processes."""
    progress = Progress(len(tasks), quiet)
    records = [None] * len(tasks)
    if workers == 1:
        with _library_output(quiet):
            for i, task in enumerate(tasks):
                records[i] = run_task(task, progress)
                progress.advance(f"{records[i]['optimizer']} seed {records[i]['seed']} done")
    else:
        # spawn, not fork: forking a process whose torch thread pools already
        # run (the learning-rate search ran in this one) can hang the children.
        context = multiprocessing.get_context("spawn")
        started = context.Value("i", 0)  # how many workers have started: the next one's index
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=_init_worker, initargs=(workers, quiet, started)) as pool:
            running = {pool.submit(run_task, tasks[i]): i for i in _longest_first(tasks)}
            try:
                for future in as_completed(running):
                    records[running[future]] = record = future.result()
                    progress.advance(f"{record['optimizer']} seed {record['seed']} done")
            except BaseException:  # a run failed: the runs not started yet never start
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    progress.close()
    return records


def _longest_first(tasks):
    """The order in which the workers take the runs: the line search (a forward pass per
    candidate step on every batch, twice a run's time or more) first, so that no worker is
    left alone with it at the end while the others idle."""
    return sorted(range(len(tasks)), key=lambda i: not optimizers.info(tasks[i].config.optimizer).needs_closure)


@contextlib.contextmanager
def _library_output(quiet):
    """Libraries' progress bars (NNCF draws rich bars on stdout while it quantizes) go to
    stderr, beside ours, and nowhere with ``quiet``: stdout keeps the final summary alone."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink if quiet else sys.stderr):
        yield


def _init_worker(workers, quiet, started):
    _die_with_parent()
    with started.get_lock():
        index = started.value
        started.value += 1
    cores = worker_cores(index, workers)
    if cores:
        os.sched_setaffinity(0, cores)
    import torch

    torch.set_num_threads(len(cores) if cores else max(1, usable_cores() // workers))
    torch.set_num_interop_threads(1)
    # a worker prints nothing of its own: what libraries print follows _library_output
    sys.stdout = open(os.devnull, "w") if quiet else sys.stderr


def worker_cores(index, workers):
    """The cores worker ``index`` of ``workers`` runs on: its own share of this process's
    cores, so that what it runs besides torch (ONNX Runtime's check, NNCF, OpenVINO, which
    size their thread pools from the cores a process may use) stays off the other workers'
    cores. Empty (no pinning) where the OS has no affinity or there are more workers than cores."""
    cores = distributed.cpu_cores()
    if cores is None or workers > len(cores):
        return set()
    return set(cores[index * len(cores) // workers:(index + 1) * len(cores) // workers])


def _die_with_parent():
    """On Linux, a worker is killed when the comparison's process dies (even by SIGKILL):
    an orphan would go on writing a run's files while ``--resume`` trains the same run."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
