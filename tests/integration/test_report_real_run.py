"""The report of a real run on the reference kernel, with one scenario
failing at a checkpoint, opened in headless chromium: the failing oracle's
expected and actual values are on the scenario page."""

import textwrap

import pytest

from harness.adapters import get_adapter
from harness.run.runner import RunnerOptions
from harness.machine.qemu import MachineOptions
from harness.run.scenario import load_file
from harness.run.suite import run_suite
from reports import write_report
from tests.integration.test_report_browser import CHROMIUM, SCREENSHOTS, chromium, dom_text, png_size

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make deps installs it)")
def test_report_of_a_real_failing_run(built, tmp_path, run_root):
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent('''\
        area = "lazy"
        [[scenario]]
        name = "real-pass"
        program = "lazy-anon"
        [[scenario]]
        name = "real-fail"
        program = "checkpoints"
        [[scenario.checkpoint]]
        id = 2
        hit = 1
        expect = [{ check = "pages", at = "cp_buf", count = 3, state = "present" }]
        '''))
    run = run_suite(get_adapter("reference"), load_file(path), RunnerOptions(machine=MachineOptions(run_root=run_root)),
                    jobs=2, progress=lambda line: None)
    assert [s.verdict.value for s in run.scenarios] == ["PASS", "FAIL"]
    index = write_report(run, tmp_path / "report")
    page = index.parent / "scenarios" / "real-fail.html"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "real-failing-scenario.png"
    text = dom_text(chromium(tmp_path / "profile", "--dump-dom", page.as_uri()))
    chromium(tmp_path / "profile2", f"--screenshot={shot}", page.as_uri())
    assert png_size(shot)[0] > 0
    # cp_buf page 1 is still lazy at the first checkpoint 2: expected present, actual not.
    assert "page of cp_buf is not present" in text
    assert "not present in hardware" in text
    summary = dom_text(chromium(tmp_path / "profile3", "--dump-dom", index.as_uri()))
    assert "real-fail" in summary and "real-pass" in summary
