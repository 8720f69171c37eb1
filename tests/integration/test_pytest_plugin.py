"""The pytest plugin, tested with pytester: scenarios become items, a
failing one reports expected vs actual and its artifact folder, -k/-m
select, --junitxml carries the verdict, and -n 2 works."""

import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO_ROOT

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.integration

SUITE = '''area = "core"

[[scenario]]
name = "says-hello"
program = "hello"
output = ["Hello, world!"]

[[scenario]]
name = "wrong-page"
program = "checkpoints"
[[scenario.checkpoint]]
id = 2
hit = 2
expect = [{ check = "contents", addr = "cp_buf + PGSIZE", length = 1, source = "text", text = "x" }]
'''


@pytest.fixture
def suite(pytester, built, run_root, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    (pytester.path / "suite").mkdir()
    (pytester.path / "suite" / "core.toml").write_text(SUITE)
    return ["-p", "harness.pytest_plugin", "suite", f"--vmcheck-artifacts={run_root}",
            "-p", "no:cacheprovider"]


def test_items_verdicts_and_failure_report(pytester, suite, run_root):
    result = pytester.runpytest_subprocess(*suite, "--junitxml=out.xml")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*FAIL: 1 oracle violation(s)*contents*",
        "*contents at 0x*: byte 0 of cp_buf + PGSIZE differs from text",
        "*expected: 78",
        "*actual:   62",
        f"*artifacts: {run_root}/*",
    ])
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "out.xml").iter("testcase")}
    verdicts = {name: {p.get("name"): p.get("value") for p in c.iter("property")}["verdict"]
                for name, c in cases.items()}
    assert verdicts == {"says-hello": "PASS", "wrong-page": "FAIL"}


def test_selection_and_xdist(pytester, suite):
    pytester.runpytest_subprocess(*suite, "-k", "says").assert_outcomes(passed=1, deselected=1)
    pytester.runpytest_subprocess(*suite, "-m", "core", "-n", "2").assert_outcomes(passed=1, failed=1)
    pytester.runpytest_subprocess(*suite, "-m", "swap").assert_outcomes(deselected=2)


def test_malformed_file_is_a_collection_error(pytester, suite):
    (pytester.path / "suite" / "bad.toml").write_text('area = "core"\n[[scenario]]\nname = "x"\n')
    result = pytester.runpytest_subprocess(*suite, "--collect-only")
    result.stdout.fnmatch_lines(["*bad.toml:2: scenario 'x': scenario is missing required key 'program'*"])
