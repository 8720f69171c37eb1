"""Values computed from a kernel's files, kept while the file stays the same.

Every Pintos-KAIST run decides its boot shortcuts from the kernel build
(the build id of kernel.o, the boot image's digest, whether the timer
calibration is the stock one), which do not change within a process
unless the tree is rebuilt. An adapter's FileMemo (KernelAdapter.
file_memo) keeps each value under the file's identity (path, inode, size,
modification time in ns), so a rebuild, which writes a new file, is seen
at the next run; a file that cannot be stat'ed is read every time.

    memo.get("build_id", adapter.symbol_file, build_id)   # build_id(path)
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable


def _identity(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class FileMemo:
    """COMPUTE(PATH) results by (WHAT, PATH), kept while PATH's identity
    holds; safe to share between the threads of `run --jobs`."""

    def __init__(self):
        self._values: dict = {}
        self._lock = threading.Lock()

    def get(self, what: str, path: Path, compute: Callable[[Path], Any]) -> Any:
        """COMPUTE(PATH), from the memo while PATH is the file it was
        computed from; a file changed while it was read is not kept."""
        before = _identity(path)
        if before is None:
            return compute(path)
        key = (what, str(path))
        with self._lock:
            kept = self._values.get(key)
        if kept is not None and kept[0] == before:
            return kept[1]
        value = compute(path)
        if _identity(path) == before:
            with self._lock:
                self._values[key] = (before, value)
        return value
