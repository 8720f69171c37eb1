"""The HTML report in a real browser: headless Debian `chromium` opens the
summary and a failing scenario page from disk, runs their JavaScript,
and takes screenshots (kept in build/report-screenshots/ for a person to
look at). The failing oracle's expected and actual text must be in the DOM.

Skips, saying why, when chromium is not installed (`make deps` installs it).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import struct
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from reports import write_report
from tests.unit import report_fixtures as fx

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "report-screenshots"
WINDOW = (1400, 1000)
BROWSER_TIMEOUT_S = 90
CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-breakpad", "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}"]


def _kill_leftovers(profile: Path) -> None:
    """Kills (by pid) browser helpers still running with our profile dir."""
    deadline = time.monotonic() + 5
    while True:
        left = []
        for proc in psutil.process_iter(["cmdline", "status"]):
            try:
                if (proc.info["status"] != psutil.STATUS_ZOMBIE
                        and any(str(profile) in arg for arg in proc.info["cmdline"] or ())):
                    left.append(proc)
            except psutil.Error:
                continue
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for proc in left:
        proc.kill()


def chromium(profile: Path, *args: str) -> str:
    """Runs headless chromium (own process group, timeout) and returns stdout."""
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not finish within {BROWSER_TIMEOUT_S} s: {' '.join(command)}")
    finally:
        _kill_leftovers(profile)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {err[-2000:]}"
    return out


def png_size(path: Path) -> tuple:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def dom_text(dom: str) -> str:
    """The text of a serialized DOM, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package `chromium`; `make deps`)")
    tmp = tmp_path_factory.mktemp("report")
    run = fx.build_run(tmp)
    index = write_report(run, tmp / "out")
    failing = tmp / "out" / "scenarios" / f"{fx.FAILING}.html"
    return run, index, failing, tmp


def _open(page: Path, tmp: Path, shot_name: str) -> tuple:
    """(DOM text, screenshot path) of PAGE."""
    profile = tmp / f"profile-{shot_name}"
    dom = chromium(profile, "--dump-dom", page.as_uri())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{shot_name}.png"
    shot.unlink(missing_ok=True)
    chromium(profile, f"--screenshot={shot}", page.as_uri())
    return dom, shot


def test_summary_page_in_browser(rendered):
    run, index, _, tmp = rendered
    dom, shot = _open(index, tmp, "summary")
    text = dom_text(dom)
    assert "4 of 10 scenarios did not pass" in text
    # report.js ran: it rewrote the filter's count from "10 scenarios"
    assert re.search(r'id="f-count"[^>]*>10 of 10 scenarios<', dom), "report.js did not run"
    for sc in run.scenarios:
        assert sc.name in text
    assert png_size(shot) == WINDOW


def test_failing_scenario_page_in_browser(rendered):
    run, _, failing, tmp = rendered
    dom, shot = _open(failing, tmp, "failing-scenario")
    text = " ".join(dom_text(dom).split())
    for v in fx.failing_violations(run):
        assert f"Expected {v.expected}" in text, f"expected text of {v.oracle} missing"
        assert f"Actual {v.actual}" in text, f"actual text of {v.oracle} missing"
    assert "Failed checks 4" in text
    assert png_size(shot) == WINDOW


# Clicks "Time (s)" twice (descending), then picks "failed" in the verdict
# filter, and writes the visible scenario names into <body data-order>.
_DRIVE_TABLE = """<script>
const time = document.querySelectorAll("#scenario-table thead th")[3];
time.click(); time.click();
const verdict = document.getElementById("f-verdict");
verdict.value = "!PASS"; verdict.dispatchEvent(new Event("change"));
document.body.dataset.order = Array.from(document.querySelectorAll("#scenario-table tbody tr"))
  .filter(row => !row.hidden).map(row => row.cells[0].textContent.trim()).join(",");
</script>
</body>"""


def test_summary_table_sorts_and_filters(rendered):
    run, index, _, tmp = rendered
    driven = index.with_name("index-driven.html")
    driven.write_text(index.read_text().replace("</body>", _DRIVE_TABLE))
    dom = chromium(tmp / "profile-driven", "--dump-dom", driven.as_uri())
    order = re.search(r'<body data-order="([^"]*)"', dom)
    assert order, "the table script did not run"
    failing = sorted((sc for sc in run.scenarios if sc.verdict.failed),
                     key=lambda sc: -sc.duration_s)
    assert order.group(1).split(",") == [sc.name for sc in failing]
    assert re.search(r'id="f-count"[^>]*>4 of 10 scenarios<', dom)


def test_the_failed_filter_leaves_out_what_was_not_judged(rendered):
    """A NOT_JUDGED scenario is not wrong: "failed" does not list it."""
    import copy
    from results.model import Verdict
    run, _, _, tmp = rendered
    run = copy.deepcopy(run)
    passing = next(sc for sc in run.scenarios if sc.verdict.passed)
    passing.verdict, passing.reason = Verdict.NOT_JUDGED, "not judged on this kernel"
    index = write_report(run, tmp / "out-not-judged")
    driven = index.with_name("index-driven.html")
    driven.write_text(index.read_text().replace("</body>", _DRIVE_TABLE))
    dom = chromium(tmp / "profile-not-judged", "--dump-dom", driven.as_uri())
    shown = re.search(r'<body data-order="([^"]*)"', dom).group(1).split(",")
    assert passing.name not in shown
    assert sorted(shown) == sorted(sc.name for sc in run.scenarios if sc.verdict.failed)
