"""Nothing half-written: build files in a temporary directory, then move them into place.

A failed export (bad checkpoint, a numeric check that fails, Ctrl-C) removes its
temporary directory and leaves whatever the target directory held before.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged(target_dir, owns=(), last=()):
    """Yield a fresh directory beside ``target_dir``; on success move its files into ``target_dir``.

    ``owns``: file names this stage is responsible for in ``target_dir``; those it did
    not produce this time are deleted, so an old ``model_int8.xml`` never sits next to
    a new ``model.onnx``. ``last``: file names moved after all others (a manifest
    that describes the rest). A ``.bin`` moves before its ``.xml``.
    """
    target_dir = Path(target_dir)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target_dir.parent, prefix=f".{target_dir.name}.", suffix=".tmp"))
    try:
        yield tmp
        target_dir.mkdir(exist_ok=True)
        produced = sorted(tmp.iterdir(), key=lambda f: (f.name in last, f.suffix == ".xml", f.name))
        for name in set(owns) - {f.name for f in produced}:
            (target_dir / name).unlink(missing_ok=True)
        for f in produced:
            os.replace(f, target_dir / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
