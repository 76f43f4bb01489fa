"""benchmarks/suite_durations.py, the plugin behind suite_time.py: a test's
seconds are filed under its own id, without the "@group" pytest-xdist appends."""

import json
from types import SimpleNamespace

from benchmark_scripts import load_benchmark

durations = load_benchmark("suite_durations")


def test_ids_lose_the_xdist_group_and_keep_an_at_inside_a_parameter(tmp_path, monkeypatch):
    monkeypatch.setattr(durations, "_tests", {})
    monkeypatch.setenv("SUITE_DURATIONS", str(tmp_path / "d.jsonl"))
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    for nodeid, seconds in [("tests/a.py::t[x]@fused kernels", 1.5),
                            ("tests/a.py::t@tests/a.py::fixture", 2.0),
                            ("tests/a.py::t[a@b]", 0.25),
                            ("tests/a.py::t[a@b]@tests/b.py::f", 0.5)]:
        durations.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=seconds,
                                                           failed=False, skipped=False))
    durations.pytest_sessionfinish(None)
    lines = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert {line["test"]: line["seconds"] for line in lines} == {
        "tests/a.py::t[x]": 1.5, "tests/a.py::t": 2.0, "tests/a.py::t[a@b]": 0.75}
