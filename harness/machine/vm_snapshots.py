"""savevm / loadvm of a running machine (every writable drive must be qcow2):
the commands Machine (harness/machine/qemu.py) takes from SnapshotCommands."""

from __future__ import annotations

from harness.errors import HarnessError, UsageError


class SnapshotCommands:
    """Machine's snapshot commands; it provides _require_qmp()."""

    def savevm(self, tag: str) -> None:
        """Saves the whole machine state as snapshot TAG (HMP savevm)."""
        self._hmp_checked(f"savevm {tag}", "savevm")

    def loadvm(self, tag: str) -> None:
        """Restores snapshot TAG (into the mapped guest RAM too). A GDB
        attached to the stub must then drop its register cache (`maintenance
        flush register-cache`); the harness's Debugger its caches
        (`debugger.client.epoch += 1`, harness/debug/guest_memory.py)."""
        self._hmp_checked(f"loadvm {tag}", "loadvm")

    def delvm(self, tag: str) -> None:
        self._hmp_checked(f"delvm {tag}", "delvm")

    def snapshots(self) -> list[str]:
        """Tags of the snapshots on the machine's drives."""
        out = self._require_qmp().human_monitor_command("info snapshots")
        rows = [line.split() for line in out.splitlines()]
        # Rows of the table start with an ID: a number, or "--" in the
        # "present on all disks" listing.
        return [row[1] for row in rows
                if len(row) >= 2 and (row[0] == "--" or row[0].isdigit())]

    def _hmp_checked(self, command: str, what: str) -> None:
        if not all(c.isalnum() or c in "-_." for c in command.split(" ", 1)[1]):
            raise UsageError(f"{what}: snapshot tag {command.split(' ', 1)[1]!r} must be "
                             "letters, digits, '-', '_' or '.'")
        out = self._require_qmp().human_monitor_command(command).strip()
        if out:  # HMP savevm/loadvm print nothing on success
            raise HarnessError(f"{what} failed: {out}")
