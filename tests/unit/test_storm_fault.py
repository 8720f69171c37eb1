"""A fault storm's fault, decoded and shown as any caught fault is
(harness/run/fault_storm.py storm_record, the runner's HANG), and the
kernel-mode storms: judged, unless a fault the kernel handled (a fix-up, a
kill) comes between two samples."""

from __future__ import annotations

import dataclasses
import html
import re
from types import SimpleNamespace

import pytest

from harness.adapters.fault_sites import FRAME_ARG, HOOK, FaultSite
from harness.run.fault_capture import MAX_FAULTS, FaultCapture
from harness.run.fault_storm import STORM_FAULTS, VARIETY
from harness.run.hang_watch import FAULT_STORM, GuestHang
from harness.run.runner import _hang_result
from reports import write_report
from reports.junit import junit_tree
from reports.text import failure_lines
from results.codec import run_from_json, run_to_json
from results.model import FaultRecord, RunResult, ScenarioResult, Verdict
from tests.unit.test_fault_storm import (KERNEL_FAULT, USER_FAULT, FaultingDebugger, run_for,
                                         storm_watch)
from tests.unit.test_hang_watch import wall  # noqa: F401

FRAME_AT = 0xFFFF80000012FF00


class FakeCapture:
    """The run's FaultCapture as the watch sees it: the count of faults
    the kernel did not resolve, and explain() (here: a record from the
    arguments, as harness/run/fault_explain.py would decode them)."""

    def __init__(self):
        self.unresolved = 0
        self.explained: list = []

    def explain(self, dbg, inspector, frame, cr2, outcome):
        self.explained.append((frame, cr2, inspector))
        return FaultRecord(process="stk-grow", reason="page fault (page not present, write, "
                           f"user mode) at {cr2:#x}", rip=0x401234, cr2=cr2, error_code=0x6,
                           vector=14, mode="user", access="write", present=False,
                           outcome=outcome, instruction="push rbp",
                           operand="qword ptr [rsp - 8]", function="main+0x4 (stk-grow)",
                           source="stk-grow.c:12", frame_address=FRAME_AT,
                           disassembly=[(0x401234, "push rbp", True)])


def storm(wall, sample, faults=None):  # noqa: F811
    """Arms the rule and fires SAMPLE until the run ends: the GuestHang."""
    watch, clock = storm_watch(wall, [0], faults=faults)
    dbg = FaultingDebugger()
    assert run_for(watch, wall, clock, 3.1, dbg) == 1 and dbg.armed
    with pytest.raises(GuestHang) as caught:
        dbg.fault(sample, times=STORM_FAULTS)
    return caught.value


def test_the_storms_fault_is_decoded_and_carried_on_the_hang(wall):  # noqa: F811
    capture = FakeCapture()
    hang = storm(wall, dataclasses.replace(USER_FAULT, frame="trap frame"), capture)
    [(frame, cr2, inspector)] = capture.explained
    assert (frame, cr2) == ("trap frame", 0x4747F010)
    assert inspector is not None                             # with the kernel's view
    record = hang.fault
    assert record.rip == 0x401234 and record.instruction == "push rbp"
    assert record.outcome == ("the kernel returned without making the page present: the "
                              "instruction faulted again, 100 times in a row (fault storm)")
    assert hang.reason.startswith("fault storm: user instruction at 0x401234 (main+0x4 "
                                  "(stk-grow), stk-grow.c:12) `push rbp` (page fault (page "
                                  "not present, write, user mode)) faults on 0x4747f010")


def test_without_a_trap_frame_or_a_capture_the_hang_has_no_fault(wall):  # noqa: F811
    assert storm(wall, USER_FAULT, FakeCapture()).fault is None      # frame not read
    hang = storm(wall, dataclasses.replace(USER_FAULT, frame="trap frame"))
    assert hang.fault is None and hang.kind == FAULT_STORM


def test_a_kernel_mode_storm_is_a_storm(wall):  # noqa: F811
    hang = storm(wall, KERNEL_FAULT)
    assert hang.kind == FAULT_STORM
    assert hang.reason.startswith("fault storm: kernel instruction at 0xffff800000200000 "
                                  "faults on 0x4747e000 again and again (100 times in a row")
    assert "a correct kernel maps the page, or fails the access" in hang.reason


def test_a_handled_fault_between_two_samples_breaks_the_streak(wall):  # noqa: F811
    """A program that calls read() on a bad buffer again and again on a
    kernel with a fix-up: the same kernel fault each time, each one
    handled (the capture's stop counts it): variety, never a storm."""
    capture = FakeCapture()
    watch, clock = storm_watch(wall, [0], faults=capture)
    dbg = FaultingDebugger()
    run_for(watch, wall, clock, 3.1, dbg)
    for _ in range(VARIETY + 1):
        dbg.fault(KERNEL_FAULT, times=STORM_FAULTS - 1)
        capture.unresolved += 1
    assert not dbg.armed and watch.storm.armings == 1


def storm_result(record: FaultRecord, faults=(), beyond=0) -> ScenarioResult:
    """A scenario's result after a storm HANG carrying RECORD, its faults
    caught before: FAULTS."""
    result = ScenarioResult("pt-grow-stack", "stack", Verdict.PASS, 0.0, faults=list(faults),
                            faults_beyond=beyond)
    hang = GuestHang(FAULT_STORM, "fault storm: user instruction at 0x401234 ...",
                     guest_s=0.4, wall_s=9.0, fault=record)
    _hang_result(result, hang, adapter=None, sc=None)
    return result


def storm_record() -> FaultRecord:
    return FakeCapture().explain(None, None, None, 0x4747F010,
                                 "the kernel returned without making the page present: the "
                                 "instruction faulted again, 100 times in a row (fault storm)")


def test_the_storms_fault_is_shown_everywhere_a_fault_is(tmp_path):
    result = storm_result(storm_record())
    assert result.verdict is Verdict.HANG and result.faults == [storm_record()]
    one_line = ("fault: stk-grow: page fault (page not present, write, user mode) at "
                "0x4747f010 at main+0x4 (stk-grow) [stk-grow.c:12] `push rbp`; the kernel "
                "returned without making the page present: the instruction faulted again, "
                "100 times in a row (fault storm)")
    assert one_line in failure_lines(result)
    run = run_from_json(run_to_json(RunResult("reference", "2026-12-03T08:00:00", 9.0, 1,
                                              scenarios=[result])))
    assert run.scenarios[0].faults == [storm_record()]                 # results.json
    failure = junit_tree(run).getroot().find(".//testcase[@name='pt-grow-stack']/failure")
    assert one_line in failure.text
    write_report(run, tmp_path)
    page = (tmp_path / "scenarios" / "pt-grow-stack.html").read_text()
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "Fault in stk-grow · user mode" in text and "stk-grow.c:12" in text
    assert "100 times in a row (fault storm)" in text


def test_a_fault_capture_caught_is_not_recorded_twice_and_the_limit_holds():
    caught = dataclasses.replace(storm_record(), outcome="the process was killed",
                                 cr2=0x4747F999)            # the same fault, seen by capture
    assert storm_result(storm_record(), [caught]).faults == [caught]
    other = dataclasses.replace(storm_record(), rip=0x401000)
    assert storm_result(storm_record(), [other]).faults == [other, storm_record()]
    full = storm_result(storm_record(), [other] * MAX_FAULTS, beyond=2)
    assert len(full.faults) == MAX_FAULTS and full.faults_beyond == 3


class HookDebugger:
    """Stopped at a fault site; the hook's outcome argument in rdx."""

    def __init__(self, pc, outcome):
        self.pc, self.outcome = pc, outcome

    def register(self, name):
        if name == "rdx":
            return self.outcome
        raise LookupError(name)      # the record itself is not what this test reads

    def describe(self, pc):
        return hex(pc)


def test_capture_counts_the_faults_the_kernel_did_not_resolve():
    capture = FaultCapture(adapter=None, images={})
    capture.sites = {0x10: FaultSite(0x10, HOOK), 0x20: FaultSite(0x20, FRAME_ARG)}
    for pc, outcome in ((0x10, 4), (0x10, 3), (0x10, 1), (0x20, 0), (0x10, 4)):
        capture.on_stop(HookDebugger(pc, outcome), SimpleNamespace())
    assert capture.unresolved == 3            # not the two resolved kernel-mode faults
