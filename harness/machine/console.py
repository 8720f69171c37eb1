"""The guest's serial console: a thread drains QEMU's serial output (a
pipe), appends it to a log file, keeps it in memory, passes it on live to
an optional sink, and wakes anyone waiting for a pattern."""

from __future__ import annotations

import codecs
import os
import re
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable

OutputSink = Callable[[bytes], None]


class Console:
    """Reads FD (the read end of QEMU's serial pipe) until end of file.

    The log file gets the raw bytes as they arrive (flushed per chunk), so
    it is complete even if the harness dies. Text is decoded as UTF-8 with
    replacement characters; carriage returns are dropped."""

    def __init__(self, fd: int, log_path: Path, sink: OutputSink | None = None):
        self.log_path = log_path
        self._fd = fd
        self._sink = sink
        self._log: BinaryIO = open(log_path, "wb")
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._text: list[str] = []
        self._length = 0
        self._eof = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._drain, name=f"console:{log_path}",
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            while True:
                try:
                    chunk = os.read(self._fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                self._log.write(chunk)
                self._log.flush()
                self._pass_on(chunk)
                self._append(self._decoder.decode(chunk))
        finally:
            self._append(self._decoder.decode(b"", final=True))
            self._log.close()
            os.close(self._fd)
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def _pass_on(self, chunk: bytes) -> None:
        """Gives CHUNK to the sink; a sink that fails (e.g. stdout is a
        closed pipe) is dropped, the console keeps draining and logging."""
        if self._sink is None:
            return
        try:
            self._sink(chunk)
        except Exception:  # noqa: BLE001 - a broken sink must not stall QEMU
            self._sink = None

    def _append(self, text: str) -> None:
        text = text.replace("\r", "")
        if not text:
            return
        with self._cond:
            self._text.append(text)
            self._length += len(text)
            self._cond.notify_all()

    @property
    def ended(self) -> bool:
        """True once QEMU closed the serial pipe (it exited)."""
        with self._cond:
            return self._eof

    @property
    def length(self) -> int:
        """Characters received so far (cheap: a progress marker)."""
        with self._cond:
            return self._length

    def text(self) -> str:
        """Everything received so far."""
        with self._cond:
            joined = "".join(self._text)
            self._text = [joined]
            return joined

    def lines(self) -> list[str]:
        """Complete lines received so far plus a trailing partial line."""
        return self.text().splitlines()

    def tail(self, count: int = 15) -> list[str]:
        return self.lines()[-count:]

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float,
                 start: int = 0) -> re.Match[str] | None:
        """Waits until PATTERN (a regex, MULTILINE) matches the console text
        at or after offset START. Returns the match, or None if the console
        ended (QEMU exited) without it. Returns None also on timeout; the
        caller turns that into a MachineTimeout naming what it awaited
        (check `ended` to tell the two apart)."""
        regex = re.compile(pattern, re.MULTILINE) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                match = regex.search(self.text(), start)
                if match or self._eof:
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def wait_ended(self, timeout: float) -> bool:
        """Waits for end of file (all output drained); False on timeout."""
        self._thread.join(timeout)
        return not self._thread.is_alive()
