"""Hangs judged while the guest runs (harness/run/hang_watch.py), on the real
reference kernel: the guest-time limit, "no progress", and deadlocks found
as they happen with their wait-for graph. The deadlock mutants' CI runs
(dl-wait, dl-abba, dl-evict) are in tests/integration/test_mutants.py."""

from __future__ import annotations

import textwrap

import pytest

from harness.adapters import get_adapter
from harness.course.mutants import build_mutant, load_catalogue
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.runner import RunnerOptions, run_scenario
from harness.machine.qemu import MachineOptions
from harness.run.scenario import load_file

pytestmark = pytest.mark.integration


def scenario(tmp_path, text: str):
    path = tmp_path / "s.toml"
    path.write_text('area = "core"\n' + textwrap.dedent(text))
    return load_file(path)[0]


@pytest.mark.timeout(120)
def test_the_guest_clock_ends_a_run_that_outlives_its_timeout(built, tmp_path, run_root):
    # spin prints a line every ~0.1 guest s for about 1 s, so "no progress"
    # (half the 0.5 s timeout) cannot end it first, however slow the host
    sc = scenario(tmp_path, """
        [[scenario]]
        name = "short"
        program = "spin"
        args = ["S", "300000000"]
        timeout = 0.5
        """)
    # the wall-clock net is 3 x 0.5 s x 150 = 225 s: far behind even on a loaded host
    res = run_scenario(get_adapter("reference"), sc,
                       RunnerOptions(machine=MachineOptions(run_root=run_root, timeouts=_scaled(150))))
    assert res.verdict.value == "HANG", res.reason
    assert res.reason.startswith("no power-off within 0.5 s of guest time"), res.reason
    assert res.hang.kind == "guest time" and res.hang.guest_s >= 0.5
    assert "threads when stopped:" in res.notes


@pytest.mark.timeout(180)
def test_a_busy_guest_without_output_is_no_progress(built, tmp_path, run_root):
    """dl-spin computes forever after one line: no progress for half the
    4 s timeout ends it, with where each thread was."""
    sc = scenario(tmp_path, """
        [[scenario]]
        name = "spinning"
        program = "dl-spin"
        timeout = 4
        """)
    res = run_scenario(get_adapter("reference"), sc,
                       RunnerOptions(machine=MachineOptions(run_root=run_root, timeouts=_scaled(20))))
    assert res.verdict.value == "HANG", res.reason
    assert res.reason.startswith("no progress for 2 s of guest time"), res.reason
    assert "dl-spin (tid 3, running): user mode at 0x" in res.reason
    assert res.hang.kind == "no progress"
    assert res.hang.guest_s < 4


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_deadlock_ends_the_run_at_once_with_its_cycle(built, tmp_path, run_root, suite):
    """wait-holds-fs-lock: the parent sleeps in wait() holding vmfs_lock, the
    child needs it to exit. The run ends long before its 30 s of guest time,
    and the graph names both waits and the cycle."""
    mutant = {m.name: m for m in load_catalogue()}["wait-holds-fs-lock"]
    build_mutant(mutant, tmp_path / "kernel")
    res = run_scenario(ReferenceAdapter(kernel_dir=tmp_path / "kernel"), suite["dl-wait"],
                       RunnerOptions(machine=MachineOptions(run_root=run_root)))
    assert res.verdict.value == "HANG", res.reason
    assert res.reason.startswith(
        "deadlock: tid 3 dl-wait waits for the exit of tid 4 dl-wait-child, which waits for "
        "`vmfs_lock` held by tid 3"), res.reason
    graph = res.hang.graph
    assert [t.tid for t in graph.cycle()] == [3, 4]
    main = graph.node(1)
    assert main.wait.target == "the exit" and main.wait.holder == 3     # not on the cycle
    assert graph.node(2).idle and res.hang.guest_s < 30
    assert any(line.startswith("dl-wait-child (tid 4, blocked)") for line in res.notes)


def _scaled(scale: float):
    from harness.config import Timeouts
    return Timeouts(scale=scale)


@pytest.fixture(scope="module")
def suite(built):
    from harness import config
    from harness.run.runner import DATA_DIR
    from harness.run.suite import load_all
    return {sc.name: sc for sc in load_all(config.build_dir() / "programs", DATA_DIR)}


@pytest.mark.timeout(60)
def test_the_clock_reads_ticks_from_the_mapped_ram_as_hmp_x_does(built, run_root):
    """A real guest (spin, its timer ticking): the ticks the clock reads
    from the mapped RAM equal HMP `x`'s at the link address, the guest
    paused between the two (harness/machine/guest_clock.py)."""
    import time

    from harness.machine.guest_clock import GuestClock, read_guest_word
    from harness.machine.qemu import Machine

    adapter = ReferenceAdapter()
    symbols = adapter.kernel_symbols()
    with Machine(MachineOptions(run_root=run_root)) as machine:
        disks = adapter.make_disks(machine.run_dir, {"spin": adapter.find_program("spin")}, {}, 0)
        machine.start(adapter.qemu_args(
            disks, adapter.kernel_cmdline([["spin", "S", "2000000000"]], None), 20))
        assert machine.guest_ram is not None, machine.guest_ram_note
        clock = GuestClock.for_kernel(machine.qmp, symbols, machine.guest_ram)
        deadline = time.monotonic() + 20
        while clock.tick_phys is None or (clock.sample().ticks or 0) < 5:
            assert time.monotonic() < deadline, "the kernel's ticks never reached 5"
            clock.sample()
            time.sleep(0.02)
        machine.qmp.execute("stop")
        mapped = clock.sample().ticks
        hmp = read_guest_word(machine.qmp.human_monitor_command, symbols.address_of("ticks"))
        assert mapped == hmp >= 5
        machine.qmp.execute("cont")
        time.sleep(0.2)
        assert clock.sample().ticks > mapped        # the mapping follows the running guest
        machine.kill()
