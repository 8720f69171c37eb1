"""Sourced by GDB (`vmcheck debug` passes it with -x; by hand:
`source harness/cli/gdb_startup.py` after `target remote`): defines the
vm-* commands (harness/cli/gdb_commands.py) and prints where the machine
stopped and why.

The run's context comes from the file named by $VMCHECK_GDB_CONTEXT
(gdb-context.json in the run folder: kernel, programs, memory size, the
moment); without it the commands read a reference kernel with 64 MiB and
no user programs ($VMCHECK_KERNEL names another kernel spec).
"""

import json
import os
import sys
from pathlib import Path

import gdb

REPO = str(Path(__file__).resolve().parents[2])
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from harness.cli import gdb_commands  # noqa: E402 - after the path is set
from harness.cli.gdb_view import MachineView  # noqa: E402
from harness.debug.gdb_inferior import GdbInferior  # noqa: E402
from harness.errors import VmcheckError  # noqa: E402


def _context() -> dict:
    path = os.environ.get("VMCHECK_GDB_CONTEXT")
    if path:
        return json.loads(Path(path).read_text())
    return {"kernel": os.environ.get("VMCHECK_KERNEL", "reference")}


def _banner(context: dict, names: list) -> str:
    moment = context.get("moment")
    lines = []
    if moment:
        lines.append(f"vmcheck: {context['scenario']} stopped at {moment['kind']} "
                     f"(asked: --at {context['where']})")
        lines.append(f"vmcheck: {moment['why']}")
        lines.append(f"vmcheck: the guest's console: {context['console_log']}")
    lines.append(f"vmcheck: commands {', '.join(names)} (help vm-pt ...); `quit` ends the run")
    return "\n".join(lines) + "\n"


def _start() -> None:
    context = _context()
    try:
        view = MachineView(context, GdbInferior(gdb))
    except (VmcheckError, OSError, ValueError) as e:
        gdb.write(f"vmcheck: the vm-* commands are not available: {e}\n", gdb.STDERR)
        return
    gdb.write(_banner(context, gdb_commands.register(view)))


_start()
