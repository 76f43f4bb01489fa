"""Atomic file writes: a reader (or a killed run) sees the old file or the new
one, never half of one. Every result file of descentlab goes through here."""

import json
import math
import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Call ``write(file_object)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600; a result file gets the mode open() would give it
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable_dir(path, what="--out"):
    """``NotADirectoryError``/``PermissionError`` (one line, with the fix) unless files can
    be written into directory ``path``; creates nothing. Called before any work, so a
    bad output path costs no training and leaves everything as it was."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{what} '{path}' is an existing file, not a directory; "
                                 "choose a directory path")
    existing = path
    while not existing.exists():  # where mkdir would start
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"{what} '{path}' lies under the file '{existing}'; choose a directory path")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".descentlab-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise PermissionError(f"cannot write into {what} '{path}' ({exc.strerror}); "
                              "choose a directory you can write to") from None


def check_writable_file(path, what="--out"):
    """Like ``check_writable_dir`` for a file ``path`` (refused when it is a directory)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} '{path}' is a directory; give a file name, e.g. '{path / 'result.json'}'")
    check_writable_dir(path.parent, what)


def remove_temporaries(root):
    """Delete what killed writers left under ``root``: the ``.NAME.*.tmp`` files of
    ``atomic_write`` and staging directories of the same pattern. Only call it when
    nothing else writes there."""
    import shutil

    for path in sorted(Path(root).rglob(".*.tmp"), reverse=True):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text):
    atomic_write(path, lambda f: f.write(text.encode()))


def write_json(path, data):
    """Strict JSON: NaN and Inf (a diverged run's losses) are written as null."""
    write_text(path, json.dumps(_null_for_non_finite(data), indent=2, allow_nan=False) + "\n")


def _null_for_non_finite(value):
    """``value`` with every NaN and Inf float, at any depth, replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _null_for_non_finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_null_for_non_finite(v) for v in value]
    return value


def pack_bools(values):
    """A boolean array as ``{"n", "bits"}``: ``bits`` is hex, 8 values a byte (numpy.packbits
    order), so the per-example correctness of a 10000-image test set takes 2500 characters."""
    import numpy as np

    values = np.asarray(values, dtype=bool).reshape(-1)
    return {"n": len(values), "bits": np.packbits(values).tobytes().hex()}


def unpack_bools(packed):
    """The boolean array ``pack_bools`` packed."""
    import numpy as np

    return np.unpackbits(np.frombuffer(bytes.fromhex(packed["bits"]), np.uint8),
                         count=packed["n"]).astype(bool)


def save_torch(path, obj):
    import torch

    atomic_write(path, lambda f: torch.save(obj, f))
