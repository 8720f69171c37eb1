"""`vmcheck debug` with a real gdb in a pseudo-terminal (pexpect).

On mutants of the reference kernel (and on a Pintos-KAIST tree, with
VMCHECK_PINTOS_TREE, at a checkpoint): each scenario is run first
(`vmcheck run`, its results.json), then `vmcheck debug` stops the same
deterministic run at its failure and hands it to gdb. What the vm-*
commands print at that moment is compared with what results.json recorded
there; `bt` shows the frames of the failing code; `quit` ends gdb, QEMU
and vmcheck (the autouse fixture fails the test on a QEMU or gdb left).
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys

import pytest

from harness import config
from harness.cli.gdb_text import spt_text
from harness.course.mutants import build_mutant, load_catalogue
from oracles.invariants import INVARIANTS
from results.codec import load_run

pexpect = pytest.importorskip("pexpect")
pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROMPT = r"\(gdb\) "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _mutant_kernel(name: str) -> str:
    """The mutant built in build/mutants/NAME (as `vmcheck mutants` does),
    one build at a time across pytest-xdist workers."""
    mutant = {m.name: m for m in load_catalogue()}[name]
    out = config.build_dir() / "mutants" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        build_mutant(mutant, out)
    return f"reference:{out}"


def _results(kernel: str, scenario: str, report, failing: bool = True) -> object:
    done = subprocess.run([str(config.REPO_ROOT / "vmcheck"), "run", "--kernel", kernel,
                           scenario, "--report", str(report)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode in ((1,) if failing else (0, 1)), done.stdout + done.stderr
    return load_run(report / "results.json").scenarios[0]


class GdbSession:
    """`vmcheck debug ARGS` in a pseudo-terminal, at gdb's prompt."""

    def __init__(self, args: list[str]):
        self.child = pexpect.spawn(str(config.REPO_ROOT / "vmcheck"), ["debug", *args],
                                   encoding="utf-8", timeout=180, dimensions=(60, 250),
                                   env={**os.environ, "TERM": "dumb"})
        self.child.logfile_read = sys.stdout
        self.banner = self._prompt()

    def _prompt(self) -> str:
        self.child.expect(PROMPT)
        return ANSI.sub("", self.child.before)

    def run(self, command: str) -> list[str]:
        """COMMAND's output lines (the echoed command left out)."""
        self.child.sendline(command)
        lines = self._prompt().replace("\r", "").splitlines()
        return [line for line in lines[1:] if line.strip()]

    def quit(self) -> str:
        self.child.sendline("quit")
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.exitstatus == 0, (self.child.exitstatus, self.child.signalstatus)
        return ANSI.sub("", self.child.before)


@pytest.mark.timeout(600)
def test_debug_lands_at_a_failed_checkpoint_and_shows_what_the_report_shows(
        built, tmp_path, our_processes):
    kernel = _mutant_kernel("ro-writable")
    result = _results(kernel, "ro-data-read", tmp_path / "report")
    record = next(cp for cp in result.checkpoints if cp.violations)
    assert record.violations
    gdb = GdbSession(["ro-data-read", "--kernel", kernel])
    try:
        _shows_the_checkpoint(gdb, record)
        assert our_processes(), "QEMU and gdb run while gdb has the prompt"
    finally:
        ending = gdb.quit()
    assert "QEMU ended; run folder kept" in ending, ending
    assert not our_processes()


def _shows_the_checkpoint(gdb: GdbSession, record) -> None:
    """At RECORD's checkpoint: the banner names it, gdb is in the program's
    checkpoint() called from main, and vm-pt (the code page), vm-spt and
    vm-check show what RECORD holds."""
    assert f"checkpoint {record.id} (hit {record.hit})" in gdb.banner
    frames = gdb.run("bt")
    assert "checkpoint" in frames[0] and any(" main " in f for f in frames), frames

    code = record.pages.lookup(0x400000)
    walk = gdb.run("vm-pt 0x400000")
    assert f"= {code.leaf_value:#018x}" in walk[4], (walk, hex(code.leaf_value))

    spt = gdb.run("vm-spt")
    assert spt[0].endswith(f"{len(record.spt)} SPT entries"), spt
    assert [line.split("  [")[0].strip() for line in spt[1:]] == \
        [f"{p.va:#014x}  {spt_text(p)}" for p in sorted(record.spt, key=lambda p: p.va)]

    invariants = [str(v) for v in record.violations if v.oracle in INVARIANTS]
    check = gdb.run("vm-check")
    assert check[0].endswith(f"{len(invariants)} invariant violation(s)"), check
    assert sorted(line.strip()[len("FAIL "):] for line in check[1:]
                  if line.strip().startswith("FAIL")) == sorted(invariants)


@pytest.mark.timeout(600)
def test_debug_lands_at_a_decoded_kernel_fault_with_its_page_walk(built, tmp_path,
                                                                   our_processes):
    kernel = _mutant_kernel("stack-kernel-rsp")
    result = _results(kernel, "stk-sc-depth-1", tmp_path / "report")
    fault = result.faults[0]
    gdb = GdbSession(["stk-sc-depth-1", "--kernel", kernel])
    try:
        assert "stopped at fault" in gdb.banner and fault.reason in gdb.banner
        frames = " ".join(gdb.run("bt"))
        assert "vmcheck_hook_fault" in frames and "page_fault" in frames, frames

        walk = gdb.run(f"vm-pt {fault.page.va:#x}")
        assert walk[0] == f"{fault.page.va:#x} in cr3 {fault.page.cr3:#x}: {fault.page.mapping}"
        assert [line.split() for line in walk[1:1 + len(fault.page.levels)]] == \
            [[e.level, f"@{e.entry:#014x}", "=", f"{e.value:#018x}", *e.flags.split()]
             for e in fault.page.levels]
        assert f"SPT: {spt_text(fault.page.spt)}" in " ".join(walk)
        assert gdb.run("p/x $cr2") == [f"$1 = {fault.page.va:#x}"]
        threads = " ".join(gdb.run("vm-threads"))
        assert "sys_read" in threads, threads   # the harness's walk goes through the trap frame
    finally:
        ending = gdb.quit()
    assert "QEMU ended; run folder kept" in ending, ending
    assert not our_processes()


@pytest.mark.timeout(900)
@pytest.mark.skipif(not os.environ.get("VMCHECK_PINTOS_TREE"),
                    reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")
def test_debug_on_a_pintos_kaist_tree_stops_at_a_checkpoint(built, tmp_path, our_processes):
    kernel = f"pintos-kaist:{os.environ['VMCHECK_PINTOS_TREE']}"
    result = _results(kernel, "lazy-file", tmp_path / "report", failing=False)
    record = next(cp for cp in result.checkpoints if (cp.id, cp.hit) == (1, 1))
    gdb = GdbSession(["lazy-file", "--kernel", kernel, "--at", "checkpoint:1"])
    try:
        _shows_the_checkpoint(gdb, record)
        regions = gdb.run("vm-maps")
        assert regions[0].endswith("pages") and "program image" in regions[1], regions
    finally:
        ending = gdb.quit()
    assert "QEMU ended; run folder kept" in ending, ending
    assert not our_processes()


@pytest.mark.timeout(600)
def test_debug_lands_at_a_deadlock_and_ctrl_c_interrupts_the_guest(built, tmp_path,
                                                                   our_processes):
    kernel = _mutant_kernel("wait-holds-fs-lock")
    result = _results(kernel, "dl-wait", tmp_path / "report")
    cycle = result.reason.split("deadlock: ")[1].split(" (every thread")[0]
    gdb = GdbSession(["dl-wait", "--kernel", kernel])
    try:
        assert "stopped at deadlock" in gdb.banner and cycle in gdb.banner
        assert gdb.run("vm-threads")[-1] == f"deadlock now: {cycle}"
        gdb.child.sendline("continue")
        gdb.child.expect("Continuing.")
        gdb.child.sendintr()          # the terminal's Ctrl-C: gdb's, not vmcheck's
        stopped = gdb._prompt()
        assert "SIGINT" in stopped, stopped
        assert gdb.run("vm-threads")[-1] == f"deadlock now: {cycle}"
    finally:
        ending = gdb.quit()
    assert "QEMU ended; run folder kept" in ending, ending
    assert not our_processes()


@pytest.mark.timeout(600)
def test_debug_at_a_kernel_function_keeps_gdb_breaking_there(built, our_processes):
    """docs/debug.md's second example: the first call of
    stack_growth_allowed is a user push; `continue` stops at the next, the
    fault inside read(), where the mutant compares with the kernel's rsp."""
    kernel = _mutant_kernel("stack-kernel-rsp")
    gdb = GdbSession(["stk-sc-depth-1", "--kernel", kernel, "--at", "break:stack_growth_allowed"])
    try:
        assert "stopped at break" in gdb.banner
        assert gdb.run("p pf->user") == ["$1 = true"]
        assert "Breakpoint 1, stack_growth_allowed" in " ".join(gdb.run("continue"))
        assert gdb.run("p pf->user") == ["$2 = false"]
        kernel_rsp = int(gdb.run("p/x pf->frame->rsp")[0].split()[-1], 16)
        user_rsp = int(gdb.run("p/x vmcheck_current_thread->user_rsp")[0].split()[-1], 16)
        assert kernel_rsp >= 0x8000000000 > user_rsp
    finally:
        gdb.quit()
    assert not our_processes()


@pytest.mark.timeout(600)
def test_debug_at_the_panic(built, our_processes):
    kernel = _mutant_kernel("panic-on-bad-access")
    gdb = GdbSession(["fault-pf-null-read", "--kernel", kernel, "--at", "panic"])
    try:
        assert "stopped at panic" in gdb.banner and "debug_panic" in gdb.banner
        frames = " ".join(gdb.run("bt"))
        assert "debug_panic" in frames and "page_fault" in frames, frames
    finally:
        gdb.quit()
    assert not our_processes()
