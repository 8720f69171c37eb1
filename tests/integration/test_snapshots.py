"""Machine snapshots on a running reference kernel: savevm while a program
runs, loadvm later, and the guest goes back in time and finishes normally."""

from __future__ import annotations

import pytest

from harness.adapters.base import Ending
from harness.adapters.reference import ReferenceAdapter
from harness.boot import BootRequest, collect_programs, wait_booted
from harness.machine import Machine, MachineOptions

pytestmark = pytest.mark.integration

SPIN = ["spin", "S", "300000000"]  # ten "S i" lines, about a second under TCG


def test_loadvm_rewinds_a_running_kernel(built, run_root):
    adapter = ReferenceAdapter()
    request = BootRequest(runs=[SPIN])
    with Machine(MachineOptions(run_root=run_root)) as machine:
        disks = adapter.make_disks(machine.run_dir, collect_programs(adapter, request), {}, 0,
                                   snapshots=True)
        machine.start(adapter.qemu_args(disks, adapter.kernel_cmdline(request.runs), 20))
        started = wait_booted(machine, adapter, 30)
        machine.pause()
        machine.savevm("running")
        machine.resume()
        assert machine.wait_for_console(r"^S 2$", 30, start=started.end())
        machine.pause()
        machine.loadvm("running")
        machine.resume()
        status = machine.wait_exit(60, "power-off after the rewound run")
        lines = machine.console.lines()
        outcome = adapter.parse_exit(machine.console.text(), status)
    assert outcome.ending is Ending.POWEROFF
    assert outcome.status_of("spin") == 0
    assert lines.count("S 1") == 2 and lines.count("S 2") >= 2, lines
    assert lines.count("S done") == 1
