"""How a QEMU process is exec'd: its command prefix and its environment.

Parent-death signal: QEMU is exec'd through `setpriv --pdeathsig KILL`
(where setpriv exists), so the kernel kills it if the harness itself is
SIGKILLed (harness/machine/qemu.py lists the other safety nets).

Huge pages for QEMU's heap: QEMU's start-up (QOM types, machine init,
TCG set-up) mallocs a few MB in small pieces, and each 4 KiB page it
touches for the first time is a page fault. On the virtual machines this
runs on a fault costs ~12 us, so faults were a third of QEMU's start.
glibc (2.35 and later) can ask for transparent huge pages for its heap
(the tunable glibc.malloc.hugetlb=1: madvise(MADV_HUGEPAGE) on the heap);
it does so only where /sys/kernel/mm/transparent_hugepage/enabled is
`madvise` (with `always` the heap has huge pages anyway, with `never`
none), so elsewhere, or with an older glibc, the tunable does nothing.
Measured here (2-core TCG VM, THP `madvise`, QEMU 7.2, the reference
kernel's command line, spawn to QMP's answer to qmp_capabilities, 11 runs
each, alternated): 128.6 -> 70.9 ms wall, 137.8 -> 81.3 ms QEMU CPU,
5,021 -> 2,605 minor faults. The guest does not see it: the heap of the
emulator is not guest memory.

A user's own GLIBC_TUNABLES is kept; the hugetlb tunable is added only
when it does not already name one (VMCHECK_QEMU_HEAP_THP=0 leaves the
environment as it is).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Mapping

HEAP_TUNABLE = "glibc.malloc.hugetlb"
HEAP_TUNABLE_SETTING = f"{HEAP_TUNABLE}=1"
OPT_OUT_VARIABLE = "VMCHECK_QEMU_HEAP_THP"


def with_parent_death_signal(cmd: list[str]) -> list[str]:
    """CMD prefixed with `setpriv --pdeathsig KILL` when setpriv exists."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] + cmd if setpriv else cmd


def qemu_environment(run_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment QEMU runs with: BASE (default os.environ), the run
    directory in VMCHECK_RUN_DIR, and glibc's heap on huge pages."""
    env = dict(os.environ if base is None else base)
    env["VMCHECK_RUN_DIR"] = str(run_dir)
    if env.get(OPT_OUT_VARIABLE, "1") != "0":
        env["GLIBC_TUNABLES"] = with_heap_tunable(env.get("GLIBC_TUNABLES", ""))
    return env


def with_heap_tunable(tunables: str) -> str:
    """GLIBC_TUNABLES (colon-separated name=value) with the hugetlb heap
    tunable added, unless it names one already."""
    settings = [s for s in tunables.split(":") if s]
    if any(s.split("=", 1)[0] == HEAP_TUNABLE for s in settings):
        return tunables
    return ":".join(settings + [HEAP_TUNABLE_SETTING])
