"""One core for each QEMU: every thread of a machine on the same CPU.

A QEMU under TCG runs the guest on its vCPU thread and serves devices on
others: the main loop, a thread pool for disk I/O, the monitor's I/O
thread. A Pintos-KAIST disk request passes between them four times
(vCPU -> pool -> main loop -> vCPU), each a futex or eventfd wake-up. On a
virtual machine a wake-up that lands on the other, idle core is an
inter-processor interrupt through the hypervisor; with all of QEMU's
threads on one core it is a plain switch. Measured on the 2-core TCG VM
this runs on (team8 @6fddedd, swap-anon alone, 95,037 IDE requests,
alternated): 18.4 and 15.6 s with QEMU free to use both cores, 10.0 and
9.5 s with it on one. The guest sees nothing of it: under -icount its
clock is its instruction count.

A machine takes a free CPU from the harness's allowed set (the calling
thread's affinity, so `taskset` and cpusets are obeyed) and holds it while
it lives. The CPUs are shared across processes on the host: each slot is
a lock file in /dev/shm, held with flock(2) by the process whose machine
uses it, so two `vmcheck` runs side by side (CI shards, `grade --jobs 2`)
do not pile onto one core. The kernel drops a lock when its holder dies.
With every CPU taken, or no lock folder, QEMU runs where the scheduler
puts it, as before. VMCHECK_CPU_PIN=0 turns the pinning off.

QEMU inherits the affinity of the thread that forks it (its threads are
made at start-up, some before `main`), so the thread that starts a
machine takes the slot's CPU for the fork only and goes back to its own
CPUs right after. The harness's threads stay free: pinned beside QEMU,
the harness waited for the core behind whatever else ran there (with two
CPU burners on the 2-core host, a deadlock was judged in 0.94 s on
average, up to 3.8 s, against 0.34 s and 0.83 s with QEMU alone pinned).

    slot = CpuSlot.reserve()      # slot.cpu is None when not pinned
    with slot.pinned_here():
        process = subprocess.Popen(...)
    ...
    slot.close()                  # when the machine is gone
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Optional

OPT_OUT_VARIABLE = "VMCHECK_CPU_PIN"

_next_start = itertools.count()      # spreads first tries over the CPUs
_start_lock = threading.Lock()
SHARED_MEMORY = Path("/dev/shm")


def slots_folder() -> Path:
    """This user's lock files, one per CPU: /dev/shm/vmcheck-cpu-slots-UID.
    Not under $TMPDIR: two runs with their own temporary folders share
    the host's CPUs all the same (the temporary folder only where there is
    no /dev/shm)."""
    shared = SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK | os.X_OK)
    base = SHARED_MEMORY if shared else Path(tempfile.gettempdir())
    return base / f"vmcheck-cpu-slots-{os.getuid()}"


def pinning_wanted(environ=os.environ) -> bool:
    return environ.get(OPT_OUT_VARIABLE, "1") != "0" and hasattr(os, "sched_setaffinity")


class CpuSlot:
    """A CPU held for one machine (cpu None: none was free, or pinning is
    off: QEMU runs unpinned). Release with close() or a `with` block."""

    def __init__(self, cpu: Optional[int], fd: Optional[int], note: str):
        self.cpu, self._fd, self.note = cpu, fd, note

    @classmethod
    def reserve(cls, allowed: Optional[set] = None, folder: Optional[Path] = None,
                environ=os.environ) -> "CpuSlot":
        """The first free CPU of ALLOWED (default: the calling thread's
        affinity), tried from a point that moves on each call."""
        if not pinning_wanted(environ):
            return cls(None, None, f"not pinned ({OPT_OUT_VARIABLE}=0)")
        cpus = sorted(allowed if allowed is not None else os.sched_getaffinity(0))
        folder = folder or slots_folder()
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as e:
            return cls(None, None, f"not pinned (no lock folder {folder}: {e.strerror})")
        with _start_lock:
            start = next(_next_start)
        for k in range(len(cpus)):
            cpu = cpus[(start + k) % len(cpus)]
            fd = _try_lock(folder / f"cpu{cpu}")
            if fd is not None:
                return cls(cpu, fd, f"on CPU {cpu}")
        return cls(None, None, f"not pinned (all {len(cpus)} allowed CPUs taken)")

    @contextlib.contextmanager
    def pinned_here(self) -> Iterator[None]:
        """The calling thread on this slot's CPU for the block (a process
        forked in it keeps that CPU, and so do the threads it makes), then
        back on its own CPUs."""
        if self.cpu is None:
            yield
            return
        own = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {self.cpu})
        try:
            yield
        finally:
            os.sched_setaffinity(0, own)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)               # drops the flock
            self._fd = None

    def __enter__(self) -> "CpuSlot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _try_lock(path: Path) -> Optional[int]:
    """An fd holding PATH's exclusive flock, or None if another holds it
    (or the file cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:                  # EWOULDBLOCK: held by another
        os.close(fd)
        return None
    return fd
