"""What the exact disk's stops cost, packet by packet: a trace of one
process's GDB remote-protocol traffic, grouped by stop.

A stop "window" runs from the stop reply (the guest halted) to the
continue packet that lets it go again; within it, every packet the
harness sends and waits for is counted by kind with the time its round
trip took (a single step: from its packet to its stop reply). A window in
which the exact disk looked at a request (PintosExactDisk._serve ran) is
a "read" or "write" request; the rest are other stops (checkpoints,
injections, the disks' reset, looks).

    with PacketTrace() as trace:
        run_scenario(...)
    trace.requests["read"].per_request()

Installed by patching RspClient and PintosExactDisk in this process, for
the block only (benchmarks only: harness/bench/exact_disk.py).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from harness.adapters.pintos_kaist.exact_disk import PintosExactDisk
from harness.debug.rsp import RspClient

PACKET_KINDS = {b"g": "g  read all registers", b"p": "p  read one register",
                b"G": "G  write registers", b"P": "P  write one register",
                b"m": "m  read memory", b"M": "M  write memory",
                b"Z": "Z  insert breakpoint", b"z": "z  remove breakpoint",
                b"Q": "Q  PhyMemMode switch"}
CONTINUE, STEP = "vCont;c  continue", "vCont;s  single step"


def packet_kind(payload: bytes) -> str:
    return PACKET_KINDS.get(payload[:1], payload[:12].decode(errors="replace"))


@dataclass
class Window:
    """One stop: when it began, what it was, its packets."""
    began: float
    kind: str = "other"
    packets: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    step_sent: Optional[float] = None


@dataclass
class WindowTotals:
    """The sum over the windows of one kind."""
    count: int = 0
    held_s: float = 0.0          # stop reply -> continue sent
    resumed_s: float = 0.0       # continue sent -> the next stop reply (QEMU resumes,
                                 # the guest runs, QEMU stops it again)
    packets: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)

    def add(self, window: Window, held: float) -> None:
        self.count += 1
        self.held_s += held
        self.packets.update(window.packets)
        self.seconds.update(window.seconds)

    def per_request(self) -> dict:
        """Means per window: held_ms, packets, packet_ms, and by packet kind
        [packets, ms]."""
        n = max(self.count, 1)
        return {"held_ms": 1e3 * self.held_s / n,
                "resumed_ms": 1e3 * self.resumed_s / n,
                "packets": sum(self.packets.values()) / n,
                "packet_ms": 1e3 * sum(self.seconds.values()) / n,
                "by_kind": {k: [self.packets[k] / n, 1e3 * self.seconds[k] / n]
                            for k in sorted(self.packets)}}


class PacketTrace:
    """Counts packets per stop while installed (a context manager)."""

    def __init__(self):
        self.windows: dict = {}          # kind -> WindowTotals
        self.current: Optional[Window] = None
        self._resumed: Optional[tuple] = None     # (when, WindowTotals) of the last continue
        self._saved: list = []

    def __enter__(self) -> "PacketTrace":
        trace = self
        request, start = RspClient.request, RspClient._start
        wait_stop, serve = RspClient.wait_stop, PintosExactDisk._serve

        def traced_request(client, payload, timeout=None):
            t0 = time.perf_counter()
            try:
                return request(client, payload, timeout)
            finally:
                trace._count(packet_kind(payload), time.perf_counter() - t0)

        def traced_start(client, packet):
            trace._started(packet)
            return start(client, packet)

        def traced_wait_stop(client, timeout):
            reply = wait_stop(client, timeout)
            if reply is not None:
                trace._stopped()
            return reply

        def traced_serve(service, dbg, write):
            if trace.current is not None:
                trace.current.kind = "write" if write else "read"
            return serve(service, dbg, write)

        self._saved = [(RspClient, "request", request), (RspClient, "_start", start),
                       (RspClient, "wait_stop", wait_stop),
                       (PintosExactDisk, "_serve", serve)]
        RspClient.request, RspClient._start = traced_request, traced_start
        RspClient.wait_stop, PintosExactDisk._serve = traced_wait_stop, traced_serve
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, original in self._saved:
            setattr(owner, name, original)
        self._saved = []

    def _count(self, kind: str, seconds: float) -> None:
        if self.current is not None:
            self.current.packets[kind] += 1
            self.current.seconds[kind] += seconds

    def _started(self, packet: bytes) -> None:
        window = self.current
        if window is None:
            return
        now = time.perf_counter()
        if packet.startswith(b"vCont;s") or packet == b"s":
            window.step_sent = now
            return
        window.packets[CONTINUE] += 1
        totals = self.windows.setdefault(window.kind, WindowTotals())
        totals.add(window, now - window.began)
        self.current, self._resumed = None, (now, totals)

    def _stopped(self) -> None:
        now = time.perf_counter()
        window = self.current
        if window is not None and window.step_sent is not None:
            window.packets[STEP] += 1
            window.seconds[STEP] += now - window.step_sent
            window.step_sent = None
        elif window is None:
            self.current = Window(now)
            if self._resumed is not None:
                self._resumed[1].resumed_s += now - self._resumed[0]
                self._resumed = None

    def requests(self) -> WindowTotals:
        """Read and write requests together."""
        out = WindowTotals()
        for kind in ("read", "write"):
            part = self.windows.get(kind)
            if part is not None:
                out.count += part.count
                out.held_s += part.held_s
                out.resumed_s += part.resumed_s
                out.packets.update(part.packets)
                out.seconds.update(part.seconds)
        return out
