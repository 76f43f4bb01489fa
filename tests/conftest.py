"""What every test process shares.

The suite runs in parallel (pytest-xdist, ``-n auto --dist loadgroup`` in
pyproject.toml): one worker process per core, each computing with its share
of the cores' torch threads, so that workers do not fight over the cores.
Tests are handed out one by one in the files' order (handing the slow ones
out first was measured slower: their subprocesses then all run at once),
except those that use a module- or
session-scoped fixture (a trained model, an export, a comparison, the fork
server): they go to one worker as a group named after the fixture, so that it
is built once.
"""

import os

import pytest


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        shared = sorted(f"{definitions[-1].baseid}::{name}"
                        for name, definitions in item._fixtureinfo.name2fixturedefs.items()
                        if definitions[-1].scope in ("module", "session", "package")
                        and definitions[-1].baseid)  # ours, not pytest's own (tmp_path_factory)
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))


@pytest.fixture(scope="session")
def forkserver(tmp_path_factory):
    """Runs ``descentlab`` command lines in fresh processes without their seconds of imports
    (``forkserver.py``)."""
    from forkserver import ForkServer

    server = ForkServer(tmp_path_factory.mktemp("forkserver"))
    yield server
    server.close()
