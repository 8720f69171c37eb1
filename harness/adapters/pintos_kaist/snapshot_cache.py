"""The boot snapshots' state files under build/, capped in bytes.

Each key of a boot snapshot (boot_snapshot.py) keeps one state file of
~1 MB on disk (20 MB of guest RAM at `main`, sparse: state_file.py; the
cap counts the blocks a file takes, not its size); a tree's whole suite has about ten
keys (team8: ten, by RAM and swap size), and every build of every tree
graded on a host adds its own. So the folder is capped (DEFAULT_CAP_MB =
64 MB, VMCHECK_PINTOS_SNAPSHOTS_MB to change it): about six builds' worth
of a suite's keys, so `grade` over many trees keeps the builds it is
working on and a suite never evicts the keys it is still using (which
would cost a ~1 s probe each time). After each probe, the least recently
used states go (a run that restores a state touches its modification
time) until the folder fits.

Never a state another worker is loading: a run holds a shared lock on
its state file (hold(), taken under the cache's lock, where the state was
chosen) until QEMU has read it (BootSnapshot.arm releases it); a state is
removed (remove_unused) only under the cache's lock and only if an
exclusive lock on it is free at once, so no run can come to hold it in
between. A state the eviction had to skip stays, over the cap, until a
later probe finds it free.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Optional

CAP_ENV = "VMCHECK_PINTOS_SNAPSHOTS_MB"
DEFAULT_CAP_MB = 64
SUFFIX = ".state"


def cap_bytes() -> int:
    """The cap on the state files' total size (CAP_ENV, MB; default DEFAULT_CAP_MB)."""
    raw = os.environ.get(CAP_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_CAP_MB
    except ValueError:
        megabytes = DEFAULT_CAP_MB
    return max(0, int(megabytes * (1 << 20)))


def hold(state: Path) -> Optional[IO[bytes]]:
    """STATE opened with a shared lock that keeps it from being removed
    (close the file to let go), and marked used now; None if it is gone.
    Call under the cache's lock."""
    try:
        held = open(state, "rb")
    except FileNotFoundError:
        return None
    fcntl.flock(held, fcntl.LOCK_SH)
    os.utime(state)
    return held


def remove_unused(state: Path) -> bool:
    """Removes STATE unless a run holds it (hold); True if it is gone.
    Call under the cache's lock."""
    try:
        file = open(state, "rb")
    except FileNotFoundError:
        return True
    with file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        state.unlink(missing_ok=True)
        return True


def _by_age(folder: Path) -> list[tuple[Path, int]]:
    """The state files in FOLDER, least recently used first, with their sizes."""
    found = []
    for path in folder.glob("*" + SUFFIX):
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        found.append((st.st_mtime_ns, path, st.st_blocks * 512))   # on disk: RAM is sparse
    return [(path, size) for _, path, size in sorted(found)]


def evict(entries: dict, folder: Path, cap: int, keep: str) -> list[Path]:
    """Removes the least recently used state files in FOLDER, but KEEP's
    and those a run holds, until they fit in CAP bytes; drops from
    ENTRIES (the cache's index: name -> {"state": file name}) what has no
    file any more. Returns the files removed. Call under the cache's lock."""
    states = _by_age(folder)
    total = sum(size for _, size in states)
    kept = entries.get(keep, {}).get("state")
    removed = []
    for path, size in states:
        if total <= cap:
            break
        if path.name != kept and remove_unused(path):
            total -= size
            removed.append(path)
    for name, entry in list(entries.items()):
        if not (folder / entry["state"]).is_file():
            del entries[name]
    return removed
