"""Atomic result files: the old file or the new one, never half of one, with a normal file mode."""

import json
import math
import os
import stat

import pytest

from descentlab import io


def test_a_written_file_has_the_mode_open_would_give(tmp_path):
    old = os.umask(0o022)
    try:
        io.write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "r.json"
    io.write_json(path, {"a": 1})

    def half(f):
        f.write(b'{"a": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        io.atomic_write(path, half)
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_non_finite_numbers_are_written_as_null(tmp_path):
    io.write_json(tmp_path / "r.json", {"loss": [1.0, math.nan, math.inf]})
    assert json.loads((tmp_path / "r.json").read_text()) == {"loss": [1.0, None, None]}
