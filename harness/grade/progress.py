"""What a class grading says while it runs.

On a terminal: one live line, redrawn in place (submissions and scenarios
done, what is being built, elapsed time, an estimate to finish), with a
permanent line above it for each submission that finishes. Elsewhere (a
log file, CI): only the permanent lines, plain, one per event.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import Optional, TextIO

CLEAR_LINE = "\r\x1b[K"


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class Progress:
    """SUBMISSIONS to grade in this run, SCENARIOS each; ALREADY: finished
    in an earlier run (counted as done, not in the estimate)."""

    def __init__(self, submissions: int, scenarios: int, already: int = 0,
                 stream: Optional[TextIO] = None, live: Optional[bool] = None,
                 now=time.monotonic):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.total = submissions + already
        self.per_submission = scenarios
        self.done_subs = already
        self.done_scenarios = 0
        self.to_run = submissions * scenarios
        self.building: list = []
        self.now = now
        self.started = now()
        self.lock = threading.Lock()
        self.shown = False

    # ---- events (any thread) ----

    def say(self, line: str) -> None:
        """A permanent line."""
        with self.lock:
            self._erase()
            print(line, file=self.stream, flush=True)
            self._draw()

    def build_started(self, name: str) -> None:
        with self.lock:
            self.building.append(name)
            self._draw()

    def build_ended(self, name: str, scenarios_left_out: int = 0) -> None:
        """NAME's build ended; SCENARIOS_LEFT_OUT will not run (it failed)."""
        with self.lock:
            if name in self.building:
                self.building.remove(name)
            self.to_run -= scenarios_left_out
            self._draw()

    def scenario_done(self) -> None:
        with self.lock:
            self.done_scenarios += 1
            self._draw()

    def submission_done(self, line: str) -> None:
        with self.lock:
            self.done_subs += 1
            self._erase()
            width = len(str(self.total))
            print(f"[{self.done_subs:{width}}/{self.total}] {line}", file=self.stream, flush=True)
            self._draw()

    def tick(self) -> None:
        """Redraws the live line (the elapsed time moves)."""
        with self.lock:
            self._draw()

    def close(self) -> None:
        with self.lock:
            self._erase()

    # ---- the live line ----

    def status(self) -> str:
        elapsed = self.now() - self.started
        parts = [f"{self.done_subs}/{self.total} submissions",
                 f"{self.done_scenarios}/{self.to_run} scenarios"]
        if self.building:
            parts.append("building " + ", ".join(self.building[:3])
                         + (" ..." if len(self.building) > 3 else ""))
        parts.append(f"elapsed {clock(elapsed)}")
        left = self.to_run - self.done_scenarios
        if self.done_scenarios and left > 0:
            parts.append(f"about {clock(elapsed / self.done_scenarios * left)} to go")
        return "grading: " + ", ".join(parts)

    def _draw(self) -> None:
        if self.live:
            width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
            self.stream.write(CLEAR_LINE + self.status()[:width])
            self.stream.flush()
            self.shown = True

    def _erase(self) -> None:
        if self.live and self.shown:
            self.stream.write(CLEAR_LINE)
            self.shown = False
