"""A pytest plugin for suite_time.py: every test's seconds (setup + call + teardown)
and outcome, one JSON line per test, into the file named by $SUITE_DURATIONS."""

import json
import os
import re

_GROUPED = re.compile(r"([^@\[]*(?:\[.*\])?)(?:@[^\]]*)?$")
_tests = {}


def pytest_runtest_logreport(report):
    # pytest-xdist appends "@<group>" to the ids of grouped tests (after a parameter id's "]")
    nodeid = _GROUPED.match(report.nodeid).group(1)
    test = _tests.setdefault(nodeid, {"seconds": 0.0, "outcome": "passed"})
    test["seconds"] += report.duration
    if report.failed:
        test["outcome"] = "failed"
    elif report.skipped and test["outcome"] == "passed":
        test["outcome"] = "skipped"


def pytest_sessionfinish(session):
    path = os.environ.get("SUITE_DURATIONS")
    if path and not os.environ.get("PYTEST_XDIST_WORKER"):   # the controller sees every worker's reports
        with open(path, "w") as f:
            for nodeid, test in _tests.items():
                f.write(json.dumps({"test": nodeid, **test}) + "\n")
