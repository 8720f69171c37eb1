"""`make bench-run-cost` (harness/bench/run_cost.py) on the reference
kernel: one row per scenario, its verdict and three medians, no report
folder left behind."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_each_scenario_gets_a_row_with_its_verdict_and_medians():
    before = set(Path(tempfile.gettempdir()).glob("vmcheck-run-cost-*"))
    done = subprocess.run([sys.executable, "-m", "harness.bench.run_cost", "--runs", "2",
                           "hello", "lazy-anon"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert "(medians of 2, reference kernel)" in rows[0]
    for name, row in zip(("hello", "lazy-anon"), rows[1:]):
        assert re.fullmatch(rf"{name} +PASS +\d+ ms +\d+ ms +\d+ ms", row), row
    medians = [[int(n) for n in re.findall(r"(\d+) ms", row)] for row in rows[1:3]]
    total = re.fullmatch(r"sum of the medians +([\d.]+) s +([\d.]+) s +([\d.]+) s", rows[3])
    assert total, rows[3]
    for column, shown in enumerate(total.groups()):   # each a sum of rounded ms
        assert abs(float(shown) * 1000 - sum(m[column] for m in medians)) <= 51, rows
    assert set(Path(tempfile.gettempdir()).glob("vmcheck-run-cost-*")) == before


def test_no_run_is_refused():
    done = subprocess.run([sys.executable, "-m", "harness.bench.run_cost", "--runs", "0",
                           "hello"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--runs must be at least 1" in done.stderr


def test_an_unknown_scenario_is_one_line_not_a_traceback():
    done = subprocess.run([sys.executable, "-m", "harness.bench.run_cost", "--runs", "1",
                           "no-such-scenario"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("bench-run-cost: error: no scenario matches "
                                   "'no-such-scenario' (see `./vmcheck list`)")
