"""How long the test suite takes, and which tests take it.

    python3 benchmarks/suite_time.py --label after                     # the README's command: python3 -m pytest
    python3 benchmarks/suite_time.py --label fast --lane fast          # the editing lane: -m "not slow"
    python3 benchmarks/suite_time.py --label serial --args "-n 0"
    python3 benchmarks/suite_time.py --label before --repo /tmp/old-clone --python /tmp/old-venv/bin/python --cold-cache

Runs pytest as a separate process in ``--repo`` (default: this checkout),
timed from outside, with the plugin ``suite_durations.py`` recording each
test's seconds (setup + call + teardown) and outcome. Several ``--label``s accumulate in one JSON
(``benchmarks/results/suite_time.json``) and print side by side: wall time,
tests passed / failed / skipped, the sum of the tests' own seconds, the load
average before and after; then the slowest tests and files of the run just
measured. A suite run in parallel (pytest-xdist) sums to more than its wall
time.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe

from descentlab.cli.table import format_table
from descentlab.io import write_json

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).parent / "results" / "suite_time.json"
LANES = {"all": [], "fast": ["-m", "not slow"]}


def run_suite(python, repo, lane, extra, cold_cache):
    """(argv, wall seconds, {test id: seconds}, outcome counts, load before, load after, exit status)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "durations.jsonl"
        argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "suite_durations", *LANES[lane], *extra]
        env = {**os.environ, "SUITE_DURATIONS": str(report),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}
        if cold_cache:
            env["TORCHINDUCTOR_CACHE_DIR"] = str(Path(tmp) / "inductor")
        load = os.getloadavg()[0]
        start = time.perf_counter()
        finished = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if not report.is_file():
            sys.exit(f"pytest wrote no durations (exit {finished.returncode}):\n{finished.stdout[-3000:]}")
        tests, counts = read_durations(report)
    return argv, wall, tests, counts, load, os.getloadavg()[0], finished.returncode


def read_durations(path):
    """Each test's seconds by its pytest id (``tests/test_x.py::test_y[case]``), and the counts
    of passed, failed and skipped tests, with the failed tests' ids."""
    tests, counts = {}, {"passed": 0, "failed": 0, "skipped": 0, "failures": []}
    for line in path.read_text().splitlines():
        test = json.loads(line)
        tests[test["test"]] = test["seconds"]
        counts[test["outcome"]] += 1
        if test["outcome"] == "failed":
            counts["failures"].append(test["test"])
    return tests, counts


def by_file(tests):
    files = {}
    for name, seconds in tests.items():
        files[name.split("::")[0]] = files.get(name.split("::")[0], 0.0) + seconds
    return files


def slowest(seconds, n):
    return sorted(seconds.items(), key=lambda kv: -kv[1])[:n]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="the name of this measurement in the JSON")
    parser.add_argument("--lane", choices=sorted(LANES), default="all")
    parser.add_argument("--args", default="", help="more pytest arguments, e.g. '-n 0' (serial) or a test file")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose suite is timed")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs pytest")
    parser.add_argument("--cold-cache", action="store_true",
                        help="an empty torch.compile (inductor) cache, as on a fresh machine")
    parser.add_argument("--top", type=int, default=20, help="how many of the slowest tests to list")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    machine = describe()
    command, wall, tests, counts, load_before, load_after, status = run_suite(
        args.python, args.repo, args.lane, shlex.split(args.args), args.cold_cache)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.repo, capture_output=True,
                            text=True).stdout.strip()
    saved = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": {}}
    saved["runs"][args.label] = {
        "command": " ".join(command[1:]).replace(" -p suite_durations", ""), "lane": args.lane, "commit": commit,
        "exit_status": status, "compile_cache": "cold" if args.cold_cache else "as found", "wall": wall,
        "tests_seconds": sum(tests.values()), **counts, "load": [load_before, load_after],
        "machine": {k: v for k, v in machine.items() if k != "load_average"},
        "slowest_tests": slowest(tests, args.top), "slowest_files": slowest(by_file(tests), args.top),
        "tests": tests}
    write_json(args.out, saved)

    print(table(saved))
    print(f"\nslowest tests of '{args.label}':")
    print(format_table(["s", "test"], [[f"{s:.1f}", name] for name, s in slowest(tests, args.top)]))
    if counts["failures"]:
        print("\nfailed: " + ", ".join(counts["failures"]))
    print(f"\nwrote {args.out}")
    return 0 if status == 0 else 1


def table(saved):
    """Every measurement side by side."""
    rows = [[label, run["lane"], run["commit"], run["command"].split("pytest", 1)[1].strip() or "-",
             run["compile_cache"],
             f"{run['wall']:.0f} s", f"{run['passed']} / {run['failed']} / {run['skipped']}",
             f"{run['tests_seconds']:.0f} s", " / ".join(f"{x:.1f}" for x in run["load"])]
            for label, run in saved["runs"].items()]
    return format_table(["label", "lane", "commit", "pytest arguments", "compile cache", "wall",
                         "passed / failed / skipped", "tests' own seconds", "load before / after"], rows)


if __name__ == "__main__":
    sys.exit(main())
