"""Faults caught on a Pintos-KAIST development tree (harness/adapters/
pintos_fault_sites.py): a user write through NULL stops where page_fault()
finds vm_try_handle_fault() returned false; read() into a data page the
kernel has not loaded yet faults in kernel mode, inside the disk driver's
copy into the user buffer. A kernel whose lazy loader then asks for the
file-system lock its thread already holds panics (seen: /work/trees/2wheeh);
the report must tell that story at the fault, checked in headless Chromium
(the screenshot is kept in build/report-screenshots/). A kernel that
resolves the fault passes with no fault recorded.

Skipped unless VMCHECK_PINTOS_TREE names a tree with Project 3 (VM)."""

from __future__ import annotations

import os

import pytest

from harness.machine.qemu import MachineOptions
from harness.run.runner import RunnerOptions
from harness.run.suite import run_suite
from reports import write_report
from tests.integration.test_pintos_kaist import adapter  # noqa: F401 - the tree, built
from tests.integration.test_report_browser import (CHROMIUM, SCREENSHOTS, chromium, dom_text,
                                                   png_size)

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.environ.get("VMCHECK_PINTOS_TREE"),
                                 reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")]


@pytest.fixture(scope="module")
def run(adapter, built, tmp_path_factory):
    from harness import config
    from harness.run.runner import DATA_DIR
    from harness.run.suite import load_all
    suite = {sc.name: sc for sc in load_all(config.build_dir() / "programs", DATA_DIR)}
    root = tmp_path_factory.mktemp("runs")
    scenarios = [suite["fault-pf-null-write"], suite["sc-read-data"]]
    result = run_suite(adapter, scenarios, RunnerOptions(machine=MachineOptions(run_root=root)), jobs=1,
                       progress=lambda line: None)
    return {sc.name: sc for sc in result.scenarios}, result, root


@pytest.mark.timeout(600)
def test_a_user_null_write_is_caught_where_the_handler_gives_up(run):
    sc = run[0]["fault-pf-null-write"]
    assert sc.verdict.value == "PASS", sc.reason
    (f,) = sc.faults
    assert (f.mode, f.access, f.present, f.cr2) == ("user", "write", False, 0)
    assert (f.operand, f.operand_address) == ("dword ptr [rbp]", 0)
    assert f.outcome == "not resolved: vm_try_handle_fault() returned false"
    assert f.source.startswith("programs/core/fault-pf.c:") and f.function.startswith("main+")
    assert f.page.levels[-1].flags == "not present"


@pytest.mark.timeout(600)
def test_a_kernel_mode_fault_that_panics_is_told_at_its_fault(run, tmp_path):
    sc = run[0]["sc-read-data"]
    if sc.verdict.value == "PASS":       # this kernel resolves the fault as designed
        assert sc.faults == [] and sc.panic_stack == []
        pytest.skip("this tree resolves the kernel-mode fault (no panic to tell)")
    assert sc.verdict.value == "KERNEL_PANIC", sc.reason
    f = sc.faults[0]
    assert (f.mode, f.access, f.outcome) == ("kernel", "write", "the kernel panicked")
    assert f.operand_address == f.cr2 and f.consistent is True
    # read at power_off, after the panic: the hardware state is there; the
    # SPT only while the dying kernel's thread is still readable (2wheeh's
    # backtrace faults and panics again, overrunning its stack: not then)
    assert f.page.levels[-1].level == "PTE" and f.page.frame is not None
    if f.process != "?":
        assert f.page.spt is not None and f.page.owners
    assert any(fr.syscall == "read" for fr in f.stack)
    split = next(i for i, fr in enumerate(sc.panic_stack) if fr.fault is not None)
    assert sc.panic_stack[split + 1].interrupted
    assert any(fr.function.startswith("page_fault") for fr in sc.panic_stack[:split])
    assert sc.panic_story.startswith("while running read() in ")
    assert " in kernel mode at " in sc.panic_story and "the handler then: " in sc.panic_story
    _check_report(run[1], sc, tmp_path)


def _check_report(result, sc, tmp_path) -> None:
    """The scenario page in headless Chromium: the story, the stack split
    at the fault, the decoded fault with its operand and page state."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package `chromium`; `make deps`)")
    write_report(result, tmp_path / "out")
    page = next((tmp_path / "out" / "scenarios").glob(f"{sc.name}*.html"))
    profile = tmp_path / "profile"
    text = " ".join(dom_text(chromium(profile, "--dump-dom", page.as_uri())).split())
    assert "Kernel panic: the stack" in text
    assert " ".join(sc.panic_story.split()) in text
    assert "the stack below was interrupted" in text
    assert f"Fault in {sc.faults[0].process} · kernel mode" in text
    assert f"operand {sc.faults[0].operand}" in text and "SPT entry" in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "pintos-kernel-fault-panic.png"
    shot.unlink(missing_ok=True)
    chromium(profile, f"--screenshot={shot}", page.as_uri())
    assert png_size(shot)[0] > 0
