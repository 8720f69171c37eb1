"""Machine snapshots on a running reference kernel: savevm while a program
runs, loadvm later, and the guest goes back in time and finishes normally."""

from __future__ import annotations

import re
import time

import pytest

from harness.adapters.base import Ending
from harness.adapters.reference import ReferenceAdapter
from harness.boot import BootRequest, collect_programs, wait_booted
from harness.machine import Machine, MachineOptions

pytestmark = pytest.mark.integration

SPIN = ["spin", "S", "300000000"]  # ten "S i" lines, about a second under TCG


def spin_lines(machine) -> list[str]:
    """The "S i" / "S done" lines printed so far, read after the console
    reader has drained what a paused guest already sent."""
    time.sleep(0.3)
    return re.findall(r"^S (\d+|done)$", machine.console.text(), re.MULTILINE)


def test_loadvm_rewinds_a_running_kernel(built, run_root):
    """Lines printed after the snapshot are printed again after loadvm;
    lines printed before it are not. How far spin got before the snapshot
    depends on the host's speed, so the test reads it instead of assuming."""
    adapter = ReferenceAdapter()
    request = BootRequest(runs=[SPIN])
    with Machine(MachineOptions(run_root=run_root)) as machine:
        disks = adapter.make_disks(machine.run_dir, collect_programs(adapter, request), {}, 0,
                                   snapshots=True)
        machine.start(adapter.qemu_args(disks, adapter.kernel_cmdline(request.runs), 20))
        started = wait_booted(machine, adapter, 30)
        machine.pause()
        machine.savevm("running")
        before = spin_lines(machine)
        assert "done" not in before and len(before) <= 7, \
            f"spin got too far before the snapshot to show a rewind: {before}"
        machine.resume()
        target = len(before) + 2
        assert machine.wait_for_console(rf"^S {target}$", 30, start=started.end())
        machine.pause()
        seen = spin_lines(machine)
        machine.loadvm("running")
        machine.resume()
        status = machine.wait_exit(60, "power-off after the rewound run")
        lines = re.findall(r"^S (\d+|done)$", machine.console.text(), re.MULTILINE)
        outcome = adapter.parse_exit(machine.console.text(), status)
    assert outcome.ending is Ending.POWEROFF
    assert outcome.status_of("spin") == 0
    for index in range(1, 11):
        printed_before = str(index) in before
        printed_between = str(index) in seen and not printed_before
        expected = 1 if printed_before or not printed_between else 2
        assert lines.count(str(index)) == expected, (index, before, seen, lines)
    assert lines.count("done") == 1
