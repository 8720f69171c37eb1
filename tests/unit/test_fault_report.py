"""A caught fault everywhere a verdict is shown: the HTML fault section (the
marked operand, source line, page state at every level, the interrupted
kernel code), the panic's stack split at its fault, the CLI summary, JUnit
failure text and results.json. The record is the one a real run of
sc-read-data on a Pintos-KAIST tree made (addresses shortened)."""

from __future__ import annotations

import html
import re

from oracles.model.machine_state import SptPage
from results.codec import run_from_json, run_to_json
from results.model import (FaultPage, FaultRecord, KernelFrame, PagingEntry, RunResult,
                           ScenarioResult, TrapFrameRef, Verdict)
from reports.summary_table import summary_table
from reports import write_report
from reports.junit import junit_tree
from reports.text import failure_lines

STORY = ("while running read() in sc-read (read_handler+0x107 (userprog/syscall.c:299)) → "
         "page fault (page not present, write, supervisor mode) at 0x404200 in kernel mode "
         "at insw+0x2c (kernel) (include/threads/io.h:81) `rep insw word ptr [rdi], dx` → "
         "the handler then: page_fault+0x90 (userprog/exception.c:145) → debug_panic")


def fault() -> FaultRecord:
    levels = [PagingEntry("PML4E", 0x246000, 0x248027, "P|W|U|A"),
              PagingEntry("PTE", 0x24b020, 0xa26007, "P|W|U")]
    return FaultRecord(
        process="sc-read", reason="page fault (page not present, write, supervisor mode) "
        "at 0x404200", rip=0x8004213F7F, cr2=0x404200, error_code=0x2, vector=14,
        mode="kernel", access="write", present=False, outcome="the kernel panicked",
        instruction="rep insw word ptr [rdi], dx", operand="word ptr [rdi]", operand_index=0,
        operand_address=0x404200, consistent=True, function="insw+0x2c (kernel)",
        source="include/threads/io.h:81",
        disassembly=[(0x8004213F7E, "cld", False),
                     (0x8004213F7F, "rep insw word ptr [rdi], dx", True)],
        page=FaultPage(0x404000, 0x246000, levels, "mapped", 0xA26000,
                       SptPage(0x404000, "uninit", writable=True),
                       ["sc-read (pid 3) at 0x404000"]),
        stack=[KernelFrame(0x8004213F7F, "insw+0x2c", "include/threads/io.h:81"),
               KernelFrame(0x800421B597, "no_sti+0xb", syscall="read")],
        frame_address=0x80042B6AE0)


def panic_run() -> RunResult:
    stack = [KernelFrame(0x8004219013, "debug_panic", "lib/kernel/debug.c:16"),
             KernelFrame(0x8004209BBA, "intr_entry+0x6e",
                         trap=TrapFrameRef(0x80042B6AE0, 14, 0x8004213F7F, False), fault=0),
             KernelFrame(0x8004213F7F, "insw+0x2c", "include/threads/io.h:81",
                         interrupted=True)]
    sc = ScenarioResult("sc-read-data", "lazy", Verdict.KERNEL_PANIC, 24.7,
                        reason=f"Kernel PANIC at ../../threads/synch.c:202 [{STORY}]",
                        kernel="pintos-kaist", faults=[fault()], faults_beyond=2,
                        panic_stack=stack, panic_story=STORY)
    ok = ScenarioResult("fault-pf-null-read", "robustness", Verdict.PASS, 5.0,
                        faults=[FaultRecord("fault-pf", "page fault", 0x400100)])
    return RunResult("pintos-kaist", "2026-12-02T16:00:00", 30.0, 1, scenarios=[sc, ok])


def page_text(path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", path.read_text())).split())


def test_the_scenario_page_shows_the_decoded_fault_and_the_split_stack(tmp_path):
    run = run_from_json(run_to_json(panic_run()))          # through results.json
    sc = run.scenarios[0]
    assert sc == panic_run().scenarios[0]                   # typed again, not dicts
    assert isinstance(sc.faults[0].page.spt, SptPage) and sc.panic_stack[1].trap.vector == 14
    write_report(run, tmp_path)
    page = tmp_path / "scenarios" / "sc-read-data.html"
    text, raw = page_text(page), page.read_text()
    assert " ".join(STORY.split()) in text
    assert "▼ fault 0: the stack below was interrupted" in text
    assert "insw+0x2c include/threads/io.h:81 faulting instruction" in text
    assert "Fault in sc-read · kernel mode" in text
    assert "— the kernel panicked" in text
    assert "operand word ptr [rdi] at 0x404200" in text
    assert '<mark class="operand" title="faulting operand">word ptr [rdi]</mark>' in raw
    assert "PTE 0x24b020 0xa26007 P|W|U" in text
    assert ("SPT entry type uninit , writable True , busy False , swap slot known True "
            "frame owners") in text   # tags made spaces
    assert "frame owners sc-read (pid 3) at 0x404000" in text
    assert "insw+0x2c include/threads/io.h:81 < no_sti+0xb (system call read() )" in text
    assert "2 more fault(s) caught but not recorded." in text


def test_an_implicit_operand_is_not_marked_inside_the_instruction(tmp_path):
    run = panic_run()
    push = run.scenarios[0].faults[0]
    push.instruction, push.operand, push.operand_index = "push rbx", "qword ptr [rsp - 8]", None
    push.disassembly = [(0x40101E, "push rbx", True)]
    write_report(run, tmp_path)
    raw = (tmp_path / "scenarios" / "sc-read-data.html").read_text()
    assert '<mark class="operand" title="faulting operand">' not in raw
    assert "qword ptr [rsp - 8]</mark>" in raw and "(implicit)" in raw


def test_summary_junit_and_failure_lines_give_one_line_per_fault():
    run = panic_run()
    one_line = ("sc-read: page fault (page not present, write, supervisor mode) at 0x404200 "
                "at insw+0x2c (kernel) [include/threads/io.h:81] `rep insw word ptr [rdi], dx`; "
                "the kernel panicked")
    table = summary_table(run).splitlines()
    assert f"fault in sc-read-data: {one_line}" in table
    assert "1 fault(s) caught in passing scenarios (see the report)" in table
    lines = failure_lines(run.scenarios[0])
    assert f"fault: {one_line}" in lines and "fault: 2 more not recorded" in lines
    assert ("panic stack: debug_panic (lib/kernel/debug.c:16) < intr_entry+0x6e < "
            "insw+0x2c (include/threads/io.h:81)") in lines
    failure = junit_tree(run).getroot().find(".//testcase[@name='sc-read-data']/failure")
    assert f"fault: {one_line}" in failure.text
