"""A real Pintos-KAIST tree under the harness: build, boot one of our
programs, read how the run ended (power-off, panic, triple fault), read the
file system back, and read page tables and the SPT at a checkpoint.

Skipped unless VMCHECK_PINTOS_TREE names a tree (e.g. the public skeleton
or a student's Project 3 tree). On the skeleton (no VM), the SPT test
skips with the reason discovery gives."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.adapters.base import Ending, ProcessExit
from harness.adapters.pintos_kaist.adapter import PintosKaistAdapter, find_tree
from harness.run.boot import BootRequest, boot, collect_programs
from harness.debug.debugger import Debugger
from harness.errors import KernelBuildError
from harness.machine.qemu import Machine, MachineOptions
from harness.debug.program_image import load_program
from harness.debug.rsp import RspMemoryError
from harness.run.capture import capture_state
from oracles.invariants import check_invariants

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.environ.get("VMCHECK_PINTOS_TREE"),
                                 reason="set VMCHECK_PINTOS_TREE to a Pintos-KAIST tree")]

USER_STACK = 0x47480000
PAGE = 4096
MEM_MB = 20


@pytest.fixture(scope="module")
def adapter() -> PintosKaistAdapter:
    """The tree, built (a no-op when it is up to date)."""
    tree = find_tree(Path(os.environ["VMCHECK_PINTOS_TREE"]))
    adapter = PintosKaistAdapter(tree, log=lambda message: None)
    adapter.build()
    adapter.check_built()
    return adapter


def start(machine: Machine, adapter, program: str, cmdline: str | None = None) -> dict:
    """Makes the disks for PROGRAM and starts QEMU; returns the programs."""
    programs = collect_programs(adapter, BootRequest(runs=[[program]]))
    disks = adapter.make_disks(machine.run_dir, programs, {}, swap_mb=0)
    machine.start(adapter.qemu_args(disks, cmdline or adapter.kernel_cmdline([[program]]),
                                    MEM_MB))
    return programs


def test_hello_runs_and_its_file_reads_back(adapter, built, run_root):
    result = boot(adapter, BootRequest(runs=[["hello"]], read_back=["hello"]),
                  MachineOptions(run_root=run_root))
    assert result.outcome.ending is Ending.POWEROFF, result.console
    # the skeleton has no system calls: hello runs but cannot print or exit
    assert result.outcome.exits in ([], [ProcessExit("hello", 0)]), result.console
    assert result.files["hello"] == (built / "programs" / "hello").read_bytes()


def test_the_file_system_written_before_boot_is_the_one_its_f_and_put_leave(adapter, built,
                                                                          run_root):
    """Byte for byte: the disk the kernel formats and fills (-f, put) and
    the one fs_image.py writes, with a file spanning sectors, an empty file
    and a 14-byte name. hello writes no file."""
    stock = adapter.stock_fs()
    if isinstance(stock, str):
        pytest.skip(f"not the stock file system: {stock}")
    files = {"large.txt": bytes((i * 7 + i // 509) % 251 for i in range(70001)),
             "empty": b"", "fourteen-bytes": b"x" * 512}
    put = PintosKaistAdapter(adapter.tree, fs_mode="put", log=lambda message: None)
    request = BootRequest(runs=[["hello"]], files=files)
    result = boot(put, request, MachineOptions(run_root=run_root, keep=True))
    assert result.outcome.ending is Ending.POWEROFF, result.console
    (run_root / "written").mkdir()
    disks = adapter.make_disks(run_root / "written", collect_programs(adapter, request), files, 0)
    assert disks.formatted
    kernel_made, written = result.disks.fs.read_bytes(), disks.fs.read_bytes()
    assert len(kernel_made) == len(written)
    assert [n for n in range(len(written) // 512)
            if written[n * 512:(n + 1) * 512] != kernel_made[n * 512:(n + 1) * 512]] == []


def test_a_panic_is_read_with_its_symbolised_call_stack(adapter, built, run_root):
    with Machine(MachineOptions(run_root=run_root, paused=True)) as machine:
        start(machine, adapter, "hello", cmdline="-q -f no-such-action")
        machine.resume()   # paused first: the panic must not come before QMP answers
        status = machine.wait_exit(60)
        outcome = adapter.parse_exit(machine.console.text(), status)
    assert outcome.ending is Ending.PANIC
    assert "unknown action `no-such-action'" in outcome.panic_line
    stack = outcome.panic_line.split("[call stack:")[1]
    assert "run_actions" in stack
    frames = stack.strip(" ]").split(" < ")   # named frames; a garbage word ends the chain
    assert all(f.split("+")[0].isidentifier() for f in frames if not f.startswith("(stack ends")), \
        stack


def test_a_triple_fault_is_told_from_a_power_off(adapter, built, run_root):
    with Machine(MachineOptions(run_root=run_root, paused=True)) as machine:
        start(machine, adapter, "hello")
        with Debugger.attach(machine.gdb_socket, adapter.kernel_symbols(),
                             adapter.long_mode_symbol, timeout=30) as dbg:
            dbg.write_register("rip", 0x1000000000)    # unmapped, and no IDT yet
            assert dbg.run_until(None, timeout=30).reason == "exited"
        status = machine.wait_exit(30)
        outcome = adapter.parse_exit(machine.console.text(), status)
    assert outcome.ending is Ending.TRIPLE_FAULT


def run_to_checkpoint(dbg: Debugger, image, cp_id: int, timeout: float = 60):
    """Runs until the program calls checkpoint(CP_ID) with its code present
    (a breakpoint on a not yet loaded page also stops before the fault);
    returns the breakpoint."""
    expected = image.elf_bytes(image.checkpoint, 8)
    bp = dbg.add_breakpoint(image.checkpoint)
    while True:
        stop = dbg.run_until(None, timeout=timeout)
        assert stop.reason == "breakpoint", f"the program ended before checkpoint({cp_id})"
        try:
            present = dbg.read_virt(stop.pc, 8) == expected
        except RspMemoryError:
            present = False
        if present and dbg.register("rdi") == cp_id:
            return bp


def test_page_tables_and_spt_of_a_running_program(adapter, built, run_root):
    symbols = adapter.kernel_symbols()
    with Machine(MachineOptions(run_root=run_root, paused=True)) as machine:
        programs = start(machine, adapter, "lazy-anon")
        image = load_program(programs["lazy-anon"])
        with Debugger.attach(machine.gdb_socket, symbols, adapter.long_mode_symbol,
                             timeout=30) as dbg:
            inspector = adapter.inspector(dbg, symbols)
            if inspector.layout is None:
                pytest.skip(f"SPT not recognised: {inspector.layout_problem}")
            checkpoint = run_to_checkpoint(dbg, image, 1)
            state = capture_state(inspector, dbg, MEM_MB << 20, 1, {"lazy-anon": image})
            violations = check_invariants(state)
            dbg.remove_breakpoint(checkpoint)
            assert dbg.run_until(None, timeout=60).reason == "exited"
        machine.wait_exit(30)
    proc = state.proc
    assert proc.name == "lazy-anon" and proc.spt_unreadable is None
    buf = image.symbols["lazy_anon_buf"]
    for va in range(buf, buf + 3 * PAGE, PAGE):          # lazy: known, not loaded
        assert proc.spt[va].frame_pa is None and proc.pages.lookup(va) is None
    stack = proc.spt[USER_STACK - PAGE]
    assert stack.type == "anon" and stack.writable is True
    assert proc.pages.lookup(USER_STACK - PAGE).phys == stack.frame_pa
    for mapping in proc.pages.iter_user_pages():         # every present page is known
        assert mapping.va in proc.spt
    assert state.pools.user_frames_total > state.pools.user_frames_free > 0
    assert isinstance(violations, list)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_tree_that_does_not_build_gives_the_compiler_error(adapter, tmp_path):
    copy = tmp_path / "tree"
    shutil.copytree(adapter.tree, copy, ignore=shutil.ignore_patterns("build", ".git"))
    with open(copy / "vm" / "vm.c", "a") as f:
        f.write("\nthis is not C;\n")
    with pytest.raises(KernelBuildError) as caught:
        PintosKaistAdapter(copy, log=lambda message: None).build()
    assert "vm/vm.c" in str(caught.value) and "error" in str(caught.value)


def _scenario(name: str, **changes):
    """A suite scenario by name, with fields replaced."""
    import dataclasses
    from harness.run.suite import load_all
    [sc] = [s for s in load_all(None, None) if s.name == name]
    return dataclasses.replace(sc, **changes)


def test_a_hang_says_where_every_thread_was(adapter, built, run_root):
    """Stops page-parallel mid-run by a short timeout: 3 s, doubled while
    a slow (loaded) host has not started the program by then."""
    from harness.run.runner import RunnerOptions, run_scenario
    from results.model import Verdict
    for timeout in (3.0, 6.0, 12.0, 24.0):
        sc = _scenario("page-parallel", timeout=timeout)
        result = run_scenario(adapter, sc, RunnerOptions(machine=MachineOptions(run_root=run_root)))
        if result.verdict is not Verdict.HANG:
            pytest.skip(f"the tree finished page-parallel in {timeout:g} s "
                        f"({result.verdict.value})")
        if "(page-parallel) begin" in result.console:
            break
    assert result.notes[0] == "threads when stopped:"
    main = [line for line in result.notes if line.startswith("main (tid 1, ")]
    assert main and "process_wait" in main[0], result.notes   # the parent waits for its child


def test_injection_points_fire_on_a_student_kernel(adapter, built, run_root):
    from harness.run.injection import Injection
    from harness.run.runner import RunnerOptions, run_scenario
    from results.model import Verdict
    sc = _scenario("lazy-anon", inject=(Injection("frame_alloc", "fail", nth=3),
                                        Injection("page_fault", "preempt", nth=2)))
    result = run_scenario(adapter, sc, RunnerOptions(machine=MachineOptions(run_root=run_root)))
    kinds = sorted((r.point, r.kind) for r in result.injections)
    assert kinds == [("frame_alloc", "fail"), ("page_fault", "preempt")], result.reason
    assert result.verdict is not Verdict.HARNESS_ERROR, result.reason


def test_forced_yields_at_every_call_leave_a_passing_run_passing(adapter, built, run_root):
    """preempt makes the thread call thread_yield() at the point itself and
    then go on with its registers as they were: a program the tree passes
    still passes with a yield at every page fault and every file write."""
    from harness.run.injection import Injection
    from harness.run.runner import RunnerOptions, run_scenario
    from results.model import Verdict
    plain = run_scenario(adapter, _scenario("mmap-write"), RunnerOptions(machine=MachineOptions(run_root=run_root)))
    if plain.verdict is not Verdict.PASS:
        pytest.skip(f"the tree fails mmap-write without injections ({plain.reason})")
    sc = _scenario("mmap-write", inject=(Injection("page_fault", "preempt", nth=1, mode="from"),
                                         Injection("file_write", "preempt", nth=1, mode="from")))
    result = run_scenario(adapter, sc, RunnerOptions(machine=MachineOptions(run_root=run_root)))
    assert result.verdict is Verdict.PASS, result.reason
    assert len(result.injections) >= 5, result.injections
