"""What the CPU was doing when it reset: QEMU's interrupt log (-d int).

A triple fault leaves nothing to read: QEMU exits (-no-reboot). The runner
(harness/run/runner.py) therefore runs a TRIPLE_FAULT scenario once more
with QEMU's interrupt log on (MachineOptions.int_log: the machine adds
int_log_args, `-d int,cpu_reset` to a file in the run folder; under
-icount the second run is the same run) and reads the last exceptions the
CPU raised before the reset from it. The log is cut to its last
TAIL_BYTES afterwards, so the kept file is bounded; a run without a triple
fault never logs.

QEMU 7.2's lines (target/i386): "check_exception old: 0xe new 0xd" when
one exception occurs while delivering another, "  N: v=0e e=0002 i=0
cpl=0 IP=0008:... pc=... SP=0010:... CR2=..." for each exception taken,
and "Triple fault" with cpu_reset.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

INT_LOG = "qemu-int.log"
TAIL_BYTES = 64 * 1024
LAST_TAKEN = 3          # exceptions named before the reset
NO_EXCEPTION = 0xFFFFFFFF   # check_exception's "old" when none was being delivered
_TAKEN = re.compile(r"^\s*\d+: v=([0-9a-f]{2}) e=([0-9a-f]{4}) i=(\d) cpl=(\d) "
                    r"IP=[0-9a-f]{4}:([0-9a-f]+) pc=[0-9a-f]+ SP=[0-9a-f]{4}:([0-9a-f]+)"
                    r"(?: CR2=([0-9a-f]+))?", re.M)
_DOUBLE = re.compile(r"^check_exception old: 0x([0-9a-f]+) new 0x([0-9a-f]+)", re.M)
VECTOR_NAMES = {0x0: "#DE", 0x1: "#DB", 0x3: "#BP", 0x6: "#UD", 0x8: "#DF", 0xa: "#TS",
                0xb: "#NP", 0xc: "#SS", 0xd: "#GP", 0xe: "#PF", 0x11: "#AC", 0x12: "#MC"}


def int_log_args(run_dir: Path) -> list:
    """QEMU arguments that log every interrupt and the reset to the run folder."""
    return ["-d", "int,cpu_reset", "-D", str(Path(run_dir) / INT_LOG)]


def keep_tail(path: Path) -> None:
    """Cuts the log at PATH to its last TAIL_BYTES (from a line start)."""
    size = path.stat().st_size
    if size <= TAIL_BYTES:
        return
    with open(path, "rb") as f:
        f.seek(size - TAIL_BYTES)
        tail = f.read()
    tail = tail[tail.find(b"\n") + 1:]
    path.write_bytes(b"(earlier lines cut)\n" + tail)


def _vector(number: int) -> str:
    return VECTOR_NAMES.get(number, f"vector {number:#x}")


def last_exceptions(log: str) -> Optional[str]:
    """One line: the last exceptions QEMU logged before the reset, e.g.
    "#PF (error 0x2) at rip 0xffffffff80100123, cr2 0x1000, cpl 0, rsp
    0x0 → #DF (while delivering #PF) → triple fault"; None when the log
    shows no exception."""
    taken = list(_TAKEN.finditer(log))
    if not taken:
        return None
    parts = []
    for match in taken[-LAST_TAKEN:]:
        vector, error, _, cpl, rip, rsp, cr2 = match.groups()
        text = (f"{_vector(int(vector, 16))} (error {int(error, 16):#x}) at rip "
                f"{int(rip, 16):#x}, cpl {cpl}, rsp {int(rsp, 16):#x}")
        if cr2 is not None and int(vector, 16) == 0xe:
            text += f", cr2 {int(cr2, 16):#x}"
        parts.append(text)
    double = list(_DOUBLE.finditer(log))
    after = log[taken[-1].end():]
    pending = [m for m in double if m.start() > taken[-1].start()
               and int(m.group(1), 16) != NO_EXCEPTION]
    if pending:   # an exception raised while delivering the last one taken
        old, new = (int(g, 16) for g in pending[-1].groups())
        parts.append(f"{_vector(new)} while delivering {_vector(old)}")
    if "Triple fault" in after:
        parts.append("triple fault")
    return " → ".join(parts)
