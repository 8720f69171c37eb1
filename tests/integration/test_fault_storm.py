"""A page-fault storm on the reference kernel, ended in seconds by the hang
watch's fault-storm rule (harness/run/fault_storm.py), its fault decoded
among the run's faults. The catalogue mutant stack-grow-no-claim answers a
stack fault by registering a page it never loads: the faulting instruction
faults again and again (pt-grow-stack's stack object, in user mode);
stack-syscall-no-claim does so for a stack fault inside a system call
(stk-sc-depth-1's read() into an untouched stack page: a kernel-mode
storm). The unmutated kernel passes both scenarios."""

from __future__ import annotations

import pytest

from harness import config
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.course.mutants import build_mutant, load_catalogue
from harness.machine.qemu import MachineOptions
from harness.run import storm_gate
from harness.run.fault_storm import QUIET_S
from harness.run.injection import parse_cli
from harness.run.runner import DATA_DIR, RunnerOptions, run_scenario
from harness.run.storm_gate import FrameSignal
from harness.run.suite import load_all
from reports import write_report
from results.model import RunResult
from tests.integration.test_report_browser import (CHROMIUM, SCREENSHOTS, chromium, dom_text,
                                                   png_size)

pytestmark = pytest.mark.integration
# the rule arms after QUIET_S of wall time without progress (x scale); then
# 100 samples, boot and the program's start: well under 5 x QUIET_S
WALL_LIMIT_S = 5 * QUIET_S


def build(name: str, tmp_path_factory):
    mutant = {m.name: m for m in load_catalogue()}[name]
    out = tmp_path_factory.mktemp(name)
    build_mutant(mutant, out)
    return out


@pytest.fixture(scope="module")
def mutant_kernel(built, tmp_path_factory):
    return build("stack-grow-no-claim", tmp_path_factory)


@pytest.fixture(scope="module")
def syscall_mutant_kernel(built, tmp_path_factory):
    return build("stack-syscall-no-claim", tmp_path_factory)


@pytest.fixture(scope="module")
def suite(built):
    return {sc.name: sc for sc in load_all(config.build_dir() / "programs", DATA_DIR)}


def storm_run(kernel, scenario, run_root):
    res = run_scenario(ReferenceAdapter(kernel_dir=kernel), scenario,
                       RunnerOptions(machine=MachineOptions(run_root=run_root)))
    assert res.verdict.value == "HANG" and res.hang.kind == "fault storm", res.reason
    assert res.hang.wall_s < WALL_LIMIT_S * config.env_timeout_scale(), res.hang
    storms = [f for f in res.faults if f.outcome.endswith("(fault storm)")]
    assert len(storms) == 1, res.faults
    record = storms[0]
    assert record.instruction and f"`{record.instruction}`" in res.reason
    assert record.operand and record.access == "write" and record.present is False
    assert record.cr2 is not None and f"faults on {record.cr2:#x}" in res.reason
    page = record.page
    assert page is not None and page.mapping != "mapped" and page.frame is None, page
    assert page.spt is not None and page.spt.frame_pa is None, page    # registered, not loaded
    return res, record


@pytest.mark.timeout(300)
def test_a_user_mode_storm_is_a_hang_in_seconds_with_its_fault(mutant_kernel, suite,
                                                               run_root, tmp_path):
    res, record = storm_run(mutant_kernel, suite["pt-grow-stack"], run_root)
    assert res.reason.startswith("fault storm: user instruction at 0x"), res.reason
    assert record.mode == "user" and record.source.startswith("programs/")
    assert "(pt-grow-stack)" in record.function
    _check_storm_card(res, record, tmp_path)


def _check_storm_card(res, record, tmp_path) -> None:
    """The scenario page in headless Chromium: the hang's reason and the
    storm's fault card (instruction, operand, the page registered in the
    SPT but not loaded)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package `chromium`; `make deps`)")
    run = RunResult(kernel="reference", started="", duration_s=res.duration_s, jobs=1,
                    scenarios=[res])
    index = write_report(run, tmp_path / "out")
    page = index.parent / "scenarios" / f"{res.name}.html"
    profile = tmp_path / "profile"
    text = " ".join(dom_text(chromium(profile, "--dump-dom", page.as_uri())).split())
    assert " ".join(res.reason.split())[:80] in text
    assert f"Fault in {record.process} · user mode" in text
    assert f"{record.outcome}" in text and record.outcome.endswith("(fault storm)")
    assert f"operand {record.operand}" in text and "SPT entry" in text
    assert f"instruction {record.instruction}" in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "fault-storm-card.png"
    shot.unlink(missing_ok=True)
    chromium(profile, f"--screenshot={shot}", page.as_uri())
    assert png_size(shot)[0] > 0


@pytest.mark.timeout(300)
def test_a_kernel_mode_storm_is_a_hang_in_seconds_with_its_fault(syscall_mutant_kernel, suite,
                                                                 run_root):
    res, record = storm_run(syscall_mutant_kernel, suite["stk-sc-depth-1"], run_root)
    assert res.reason.startswith("fault storm: kernel instruction at 0x"), res.reason
    assert record.mode == "kernel" and "(kernel)" in record.function
    assert any(frame.syscall == "read" for frame in record.stack), record.stack


@pytest.mark.timeout(300)
def test_the_reference_kernel_passes_both(built, suite, run_root):
    opts = RunnerOptions(machine=MachineOptions(run_root=run_root))
    for name in ("pt-grow-stack", "stk-sc-depth-1"):
        res = run_scenario(ReferenceAdapter(), suite[name], opts)
        assert res.verdict.value == "PASS", f"{name}: {res.reason}"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kernel,scenario,mode", [("mutant_kernel", "pt-grow-stack", "user"),
                                                  ("syscall_mutant_kernel", "stk-sc-depth-1",
                                                   "kernel")])
def test_the_trap_frame_gate_opens_on_a_storm_in_a_run_that_must_replay_exactly(
        kernel, scenario, mode, suite, run_root, monkeypatch, request):
    """The gate of kernels without a counter of every fault (Pintos-KAIST),
    on the reference kernel with its counter ignored: an injection that
    never fires makes the run one that must replay exactly, where the rule
    arms only behind the gate; the gate reads the running thread's newest
    trap frame from user mode (a user-mode storm: a page fault at the same
    rip, read after read) and its live kernel stack (a kernel-mode storm in
    read()'s copy: a kernel page-fault frame at the same place)."""
    kernel_dir = request.getfixturevalue(kernel)
    opened = []
    real = storm_gate.StormGate.__call__

    def watched(gate):
        assert isinstance(gate.signal, FrameSignal)
        answer = real(gate)
        opened.append(answer)
        return answer

    monkeypatch.setattr(storm_gate.CounterSignal, "for_kernel", classmethod(lambda cls, s: None))
    monkeypatch.setattr(storm_gate.StormGate, "__call__", watched)
    opts = RunnerOptions(machine=MachineOptions(run_root=run_root),
                         inject=(parse_cli("swap_out:fail:nth=1000"),))
    res = run_scenario(ReferenceAdapter(kernel_dir=kernel_dir), suite[scenario], opts)
    assert res.verdict.value == "HANG" and res.hang.kind == "fault storm", res.reason
    assert res.reason.startswith(f"fault storm: {mode} instruction at 0x"), res.reason
    assert res.hang.wall_s < WALL_LIMIT_S * config.env_timeout_scale(), res.hang
    assert True in opened and res.stops_taken.get("fault_storm_arm") == 1, res.stops_taken
