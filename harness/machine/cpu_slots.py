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
uses it, so
two `vmcheck` runs side by side (CI shards, `grade --jobs 2`) do not pile
onto one core. The kernel drops a lock when its holder dies. With every
CPU taken, or no lock folder, QEMU runs where the scheduler puts it, as
before. VMCHECK_CPU_PIN=0 turns the pinning off.

QEMU inherits the affinity of the thread that forks it (its threads are
made at start-up, some before `main`), so the thread that starts a
machine is pinned to the slot's CPU before the fork, and stays there
while the machine lives: the harness's side of each debugger round trip
then runs on QEMU's core too, and the helper threads it starts (the
console reader) follow it. Closing the slot puts the thread back on its
own CPUs:

    slot = CpuSlot.reserve()      # slot.cpu is None when not pinned
    slot.pin_thread()
    process = subprocess.Popen(...)
    ...
    slot.close()
"""

from __future__ import annotations

import fcntl
import itertools
import os
import tempfile
import threading
from pathlib import Path
from typing import Optional

OPT_OUT_VARIABLE = "VMCHECK_CPU_PIN"

_next_start = itertools.count()      # spreads first tries over the CPUs
_lock = threading.Lock()             # guards both
_pinned: dict = {}                   # native thread id -> [its own affinity, live slots pinning it]


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


def own_affinity() -> set:
    """The calling thread's CPUs as they were before a slot pinned it."""
    with _lock:
        entry = _pinned.get(threading.get_native_id())
    return set(entry[0]) if entry else os.sched_getaffinity(0)


class CpuSlot:
    """A CPU held for one machine (cpu None: none was free, or pinning is
    off: QEMU runs unpinned). Release with close() or a `with` block."""

    def __init__(self, cpu: Optional[int], fd: Optional[int], note: str):
        self.cpu, self._fd, self.note = cpu, fd, note
        self._thread: Optional[int] = None   # the native id of the thread pinned

    @classmethod
    def reserve(cls, allowed: Optional[set] = None, folder: Optional[Path] = None,
                environ=os.environ) -> "CpuSlot":
        """The first free CPU of ALLOWED (default: the calling thread's own
        affinity), tried from a point that moves on each call."""
        if not pinning_wanted(environ):
            return cls(None, None, f"not pinned ({OPT_OUT_VARIABLE}=0)")
        cpus = sorted(allowed if allowed is not None else own_affinity())
        folder = folder or slots_folder()
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as e:
            return cls(None, None, f"not pinned (no lock folder {folder}: {e.strerror})")
        with _lock:
            start = next(_next_start)
        for k in range(len(cpus)):
            cpu = cpus[(start + k) % len(cpus)]
            fd = _try_lock(folder / f"cpu{cpu}")
            if fd is not None:
                return cls(cpu, fd, f"on CPU {cpu}")
        return cls(None, None, f"not pinned (all {len(cpus)} allowed CPUs taken)")

    def pin_thread(self) -> None:
        """The calling thread, and what it forks or starts from now on, on
        this slot's CPU until close(), which puts the thread back on its
        own CPUs once no other slot pins it (from any thread)."""
        if self.cpu is None or self._thread is not None:
            return
        thread = threading.get_native_id()
        with _lock:
            entry = _pinned.setdefault(thread, [os.sched_getaffinity(0), 0])
            entry[1] += 1
        self._thread = thread
        os.sched_setaffinity(0, {self.cpu})

    def close(self) -> None:
        if self._thread is not None:
            thread, self._thread = self._thread, None
            with _lock:
                entry = _pinned[thread]
                entry[1] -= 1
                if entry[1] == 0:
                    del _pinned[thread]
            if entry[1] == 0:
                try:
                    os.sched_setaffinity(thread, entry[0])
                except OSError:              # that thread has ended
                    pass
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
