"""Machine snapshots on a running reference kernel: savevm while a program
runs, loadvm later, and the guest goes back in time and finishes normally."""

from __future__ import annotations

import re
import time

import pytest

from harness.adapters.base import Ending
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.boot import BootRequest, collect_programs, wait_booted
from harness.machine.qemu import Machine, MachineOptions

pytestmark = pytest.mark.integration

SPIN = ["spin", "S", "300000000"]  # ten "S i" lines, about a second under TCG


def spin_lines(machine) -> list[str]:
    """The "S i" / "S done" lines received so far (after a short wait for
    what a paused guest already sent; a line can still be on its way)."""
    time.sleep(0.3)
    return spin_marks(machine.console.text())


def spin_marks(text: str) -> list[str]:
    """Every "S i" / "S done" in TEXT, also where the rewind cut a line: the
    serial port's state is part of the snapshot, so the bytes still queued
    in it at the pause (a newline, a whole line) are gone after loadvm, and
    the rewound guest's next line can follow "S 4" on the same line."""
    return re.findall(r"S (10|[1-9]|done)(?!\d)", text)  # not the "S 300000000" argument


def test_loadvm_rewinds_a_running_kernel(built, run_root):
    """The lines printed between savevm and loadvm come again after loadvm;
    the others once. How far spin got at each pause depends on the host,
    and a line the guest sent just before a pause may reach the console
    after it, so the test reads the console at both pauses and asks: every
    line once or twice, the twice-printed ones a contiguous run, none of
    them seen before the snapshot, and the run reaching at least the line
    before the last one seen before the rewind (the last one may have been
    still queued in the serial port, whose state loadvm restores).
    CI once showed 1 2 3 2 3 4 ... with 4 seen at the pause."""
    adapter = ReferenceAdapter()
    request = BootRequest(runs=[SPIN])
    with Machine(MachineOptions(run_root=run_root)) as machine:
        disks = adapter.make_disks(machine.run_dir, collect_programs(adapter, request), {}, 0,
                                   snapshots=True)
        machine.start(adapter.qemu_args(disks, adapter.kernel_cmdline(request.runs), 20))
        started = wait_booted(machine, adapter, 30)
        machine.pause()
        machine.savevm("running")
        before = [int(i) for i in spin_lines(machine)]
        assert len(before) <= 5, f"spin got too far before the snapshot to show a rewind: {before}"
        machine.resume()
        target = len(before) + 4
        assert machine.wait_for_console(rf"^S {target}$", 30, start=started.end())
        machine.pause()
        seen = [int(i) for i in spin_lines(machine) if i != "done"]
        machine.loadvm("running")
        machine.resume()
        status = machine.wait_exit(60, "power-off after the rewound run")
        lines = spin_marks(machine.console.text())
        outcome = adapter.parse_exit(machine.console.text(), status)
    assert outcome.ending is Ending.POWEROFF
    assert outcome.status_of("spin") == 0
    counts = {i: lines.count(str(i)) for i in range(1, 11)}
    twice = [i for i, n in counts.items() if n == 2]
    context = (before, seen, lines)
    assert set(counts.values()) <= {1, 2} and lines.count("done") == 1, context
    assert twice and twice == list(range(twice[0], twice[-1] + 1)), context
    assert not set(before) & set(twice), context
    assert len(seen) >= 4 and twice[-1] >= max(seen) - 1, context
