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


CANNOT_SEE = '''area = "core"

[[scenario]]
name = "cannot-see"
program = "checkpoints"
[[scenario.checkpoint]]
id = 2
hit = 2
expect = [{ check = "page", addr = "no_such_symbol", present = true }]
'''


def test_an_unknown_check_passes_unless_strict(pytester, suite, run_root, tmp_path):
    """A check the harness cannot evaluate (an address over a symbol the
    program lacks) is UNKNOWN on the correct kernel: PASS with a note, FAIL
    with --vmcheck-strict / --strict, the reason saying why."""
    import subprocess
    (pytester.path / "suite" / "core.toml").write_text(CANNOT_SEE)
    pytester.runpytest_subprocess(*suite).assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess(*suite, "--vmcheck-strict")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FAIL: unknown under --strict*page*no_such_symbol*"])
    command = [str(REPO_ROOT / "vmcheck"), "run", "--suite", str(pytester.path / "suite"),
               "--report", str(tmp_path / "out"), "cannot-see"]
    plain = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "1 unknown check(s) (could not inspect) in 1 scenario(s)" in plain.stdout
    strict = subprocess.run(command + ["--strict"], capture_output=True, text=True, timeout=300)
    assert strict.returncode == 1 and "unknown under --strict" in strict.stdout
