"""A plain boot (`vmcheck boot`) started from the kernel's boot snapshot.

A scenario run boots a Pintos-KAIST kernel from the machine state saved at
`main` (harness/adapters/pintos_kaist/boot_snapshot.py) and arms it from
its checkpoint session. `vmcheck boot` attaches no debugger of its own, so
this hook does the arming's part of it: QEMU starts paused from the state,
a debugger attaches just long enough to write the run's kernel arguments
at `main` (the CPU already stands there, in long mode), leaves without
resuming, and the guest is resumed over QMP. The same fall-backs as a run
(no -icount, VMCHECK_PINTOS_BOOT=cold, a failed probe, a state QEMU cannot
load: a cold boot), each said in one note; the calibration is not stood
in for (it needs a breakpoint for the whole run and drops a console
line). A kernel without a boot snapshot (the reference kernel) boots as
before, without a note.

    result = boot_from_snapshot(adapter, request, options, say=print)
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import harness.run.boot as boot_module
from harness.run.boot import BootHooks, BootRequest, BootResult
from harness.run.schedule import boot_shortcuts_for

NAME = "boot_snapshot"


class SnapshotBootHooks(BootHooks):
    """Prepares the boot snapshot before QEMU starts, arms it once QEMU
    answers (the machine started paused), then resumes the guest; SAY
    gets one note: taken, not taken and why, or not restored."""

    def __init__(self, adapter, say: Callable[[str], None]):
        self.adapter, self.say = adapter, say
        self.snapshot = None

    def before_start(self, machine, disks, args) -> None:
        taken, why_not = boot_shortcuts_for(self.adapter, machine.options, disks, args, (NAME,))
        for why in why_not:
            self.say(f"boot shortcut not taken, {why}")
        for shortcut in taken:
            shortcut.prepare(machine)
            self.snapshot = shortcut

    def started(self, machine, rules) -> bool:
        snapshot = self.snapshot
        if snapshot is not None and snapshot.missed is None:
            from harness.debug.debugger import Debugger
            with Debugger.attach(machine.gdb_socket, self.adapter.kernel_symbols(),
                                 self.adapter.long_mode_symbol) as dbg:
                snapshot.arm(dbg)       # closed without `D`: QEMU keeps the guest stopped
        elif snapshot is not None:
            snapshot.arm(None)          # a failed restore: the state goes, no debugger needed
        if snapshot is not None:
            self.say(snapshot.note if snapshot.taken else snapshot.missed)
        machine.resume()
        return False


def boot_from_snapshot(adapter, request: BootRequest, options,
                       say: Callable[[str], None]) -> BootResult:
    """boot() of REQUEST on ADAPTER's kernel under OPTIONS, from its boot
    snapshot where it has one and can take it (SnapshotBootHooks)."""
    if NAME not in getattr(adapter, "boot_shortcut_names", ()):
        return boot_module.boot(adapter, request, options)
    return boot_module.boot(adapter, request, dataclasses.replace(options, paused=True),
                            SnapshotBootHooks(adapter, say))
