"""The vm-* commands inside GDB (GDB's Python API): vmcheck's eyes on the
machine GDB is stopped on. Each command reads the machine through one
MachineView (harness/cli/gdb_view.py: the harness's walker, adapter and
oracles over GDB's own connection) and prints with harness/cli/gdb_text.py.
Loaded by harness/cli/gdb_startup.py; imports `gdb`, so only GDB loads it.

  vm-pt ADDR       the walk of one address: every level's entry and flags,
                   the frame, the SPT entry, who else maps the frame
  vm-maps          the current process's address-space regions, pages per state
  vm-spt [ADDR]    the current process's SPT as the adapter reads it
  vm-frames        the pools and every mapped user frame with its owners
  vm-threads       every thread and where it is; the wait cycle of a deadlock
  vm-check         the invariant oracles now: the violations
"""

from __future__ import annotations

import gdb

from harness.cli import gdb_text
from harness.errors import HarnessError


class VmCommand(gdb.Command):
    """Base of the vm-* commands: one MachineView, errors as one line."""

    def __init__(self, name: str, view):
        super().__init__(name, gdb.COMMAND_DATA)
        self.name, self.view = name, view

    def invoke(self, argument: str, from_tty: bool) -> None:
        try:
            lines = self.lines(argument.strip())
        except gdb.GdbError:
            raise
        except (HarnessError, LookupError, ValueError, gdb.error) as e:
            raise gdb.GdbError(f"{self.name}: {e}") from None
        except Exception as e:  # noqa: BLE001 - a broken kernel's memory may be anything
            raise gdb.GdbError(f"{self.name}: {type(e).__name__}: {e}") from None
        gdb.write("\n".join(lines) + "\n")

    def lines(self, argument: str) -> list[str]:
        raise NotImplementedError

    def address(self, argument: str) -> int:
        if not argument:
            raise gdb.GdbError(f"usage: {self.name} ADDRESS (an expression: 0x4000, $cr2, &buf)")
        return int(gdb.parse_and_eval(argument)) & (1 << 64) - 1

    def no_argument(self, argument: str) -> None:
        if argument:
            raise gdb.GdbError(f"{self.name} takes no argument")


class VmPt(VmCommand):
    """vm-pt ADDR: the page-table walk of ADDR in the current address space."""

    def lines(self, argument: str) -> list[str]:
        return gdb_text.page_lines(self.view.page(self.address(argument)))


class VmMaps(VmCommand):
    """vm-maps: the current process's address-space map (regions, pages per state)."""

    def lines(self, argument: str) -> list[str]:
        self.no_argument(argument)
        return gdb_text.maps_lines(self.view.record(), self.view.layout)


class VmSpt(VmCommand):
    """vm-spt [ADDR]: the current process's SPT (the entry of ADDR's page only)."""

    def lines(self, argument: str) -> list[str]:
        va = self.address(argument) if argument else None
        return gdb_text.spt_lines(self.view.record(), va)


class VmFrames(VmCommand):
    """vm-frames: the user-frame pool, swap use, and every mapped frame's owners."""

    def lines(self, argument: str) -> list[str]:
        self.no_argument(argument)
        state = self.view.state()
        return gdb_text.frames_lines(self.view.record(state), self.view.frame_owners(state))


class VmThreads(VmCommand):
    """vm-threads: every kernel thread and where it is; a deadlock's wait cycle."""

    def lines(self, argument: str) -> list[str]:
        self.no_argument(argument)
        return gdb_text.threads_lines(*self.view.threads())


class VmCheck(VmCommand):
    """vm-check: run vmcheck's invariant oracles on the machine now."""

    def lines(self, argument: str) -> list[str]:
        self.no_argument(argument)
        at_checkpoint = self.view.checkpoint >= 0 and self.view.dbg.pc == self.view.stop_pc
        return gdb_text.check_lines(self.view.record(), at_checkpoint)


COMMANDS = {"vm-pt": VmPt, "vm-maps": VmMaps, "vm-spt": VmSpt, "vm-frames": VmFrames,
            "vm-threads": VmThreads, "vm-check": VmCheck}


def register(view) -> list[str]:
    """Defines every vm-* command over VIEW; their names."""
    for name, command in COMMANDS.items():
        command(name, view)
    return list(COMMANDS)
