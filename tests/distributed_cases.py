"""What the distributed tests share: a free port on 127.0.0.1, ranks started with
``torch.multiprocessing`` or ``torchrun``, each bounded in time."""

import os
import signal
import socket
import subprocess
import sys
import time

import torch.multiprocessing as mp

LOCALHOST = "127.0.0.1"


def free_port():
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def rank_environment(rank, world_size, port):
    """The env:// variables torchrun would give rank ``rank``."""
    os.environ.update(MASTER_ADDR=LOCALHOST, MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), OMP_NUM_THREADS="1")


def spawn(worker, args, nprocs=2, timeout=120):
    """Run ``worker(rank, *args)`` in ``nprocs`` fresh processes; fail after ``timeout`` s."""
    context = mp.start_processes(worker, args=args, nprocs=nprocs, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise TimeoutError(f"{nprocs} ranks did not finish within {timeout} s")


def torchrun(args, nproc=2, timeout=180, **popen):
    """``torchrun --nproc-per-node N -m descentlab ARGS`` on 127.0.0.1; a started ``Popen``."""
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}",
               f"--master-addr={LOCALHOST}", f"--master-port={free_port()}",
               "-m", "descentlab", *args]
    # its own session, so that a timeout can stop torchrun and its ranks together
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, **popen)
    process.deadline = time.monotonic() + timeout
    return process


def finish(process):
    """Wait for a ``torchrun`` process; ``(returncode, stdout, stderr)``."""
    try:
        out, err = process.communicate(timeout=max(1.0, process.deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        raise TimeoutError(f"torchrun did not finish in time:\n{err[-2000:]}") from None
    return process.returncode, out, err
