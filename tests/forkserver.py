"""Run ``descentlab`` command lines in fresh processes without paying for their imports.

A fresh interpreter spends seconds importing torch, OpenVINO, NNCF, ONNX and
matplotlib before a command does anything. The fork server is one process
that imports them (and nothing runs: no thread pool, no OpenVINO core exists
yet), then forks a child per command. Each child is a new process — it can be
SIGKILLed, it exits with the command's status, its files and threads are its
own — that starts where the imports end. Forking is safe only from such an
idle process: a child forked from a process that has already run OpenVINO
crashes at once, which is why the tests' own process cannot fork.

Not for tests whose point is the import itself (a student's ``models.py`` in
the working directory, the start-up time of ``--help``): those need a fresh
interpreter.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

SERVER = r"""
import importlib, json, os, signal, sys
import torch, openvino, nncf, onnx, onnxruntime, onnxscript, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot
import descentlab.compare.runner, descentlab.export, descentlab.infer
from descentlab.cli import main

def dying(owner, name, nth):
    real, calls = getattr(owner, name), [0]
    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    setattr(owner, name, wrapped)

def child(job):
    os.chdir(job["cwd"])
    if job["tty"]:   # a terminal for all three, as a shell gives it
        opened = [(os.open(job["tty"], os.O_RDWR), fd) for fd in (0, 1, 2)]
    else:
        opened = [(os.open(os.devnull, os.O_RDONLY), 0)] + [
            (os.open(job[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd) for fd, name in ((1, "stdout"), (2, "stderr"))]
    for source, fd in opened:
        os.dup2(source, fd)
        os.close(source)
    if job["kill_at"]:
        module, _, name = job["kill_at"][0].partition(":")
        dying(importlib.import_module(module), name, job["kill_at"][1])
    try:
        code = main(job["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush(), sys.stderr.flush()
    os._exit(code or 0)

print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        child(job)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"returncode": -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)}),
          flush=True)
"""


class ForkServer:
    """``run(argv, cwd, kill_at=None, tty=None)`` -> ``subprocess.CompletedProcess`` of
    ``descentlab ARGV`` run in a forked child; ``kill_at=("module:function", n)`` SIGKILLs the
    child at the n-th call of that function (no cleanup, no ``finally``, like a power cut);
    ``tty``: the path of a terminal (a pty's other end) for its stdin, stdout and stderr, whose
    output the caller reads (``stdout``, ``stderr`` are then empty). The children compute with
    as many torch threads as this process (the suite's workers share the cores)."""

    def __init__(self, scratch):
        import torch

        self.scratch = Path(scratch)
        env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
        self.process = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the fork server did not start")
        self.jobs = 0

    def run(self, argv, cwd, kill_at=None, tty=None):
        self.jobs += 1
        out, err = (self.scratch / f"job{self.jobs}.{stream}" for stream in ("out", "err"))
        out.write_text(""), err.write_text("")
        job = {"argv": list(argv), "cwd": str(cwd), "kill_at": list(kill_at) if kill_at else None,
               "stdout": str(out), "stderr": str(err), "tty": tty}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the fork server died")
        return subprocess.CompletedProcess(argv, json.loads(answer)["returncode"], out.read_text(), err.read_text())

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)
