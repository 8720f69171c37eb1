"""Fault injection at abstract points (issue: fault injection).

An Injection says: at POINT (frame_alloc, swap_out, ...), on the NTH
matching call (or every call from the NTH on, or each call with a seeded
probability), do KIND:
  fail      the operation fails (the hook returns nonzero: NULL/false/-1
            at the kernel's call site); io_error is the same for the
            swap_in/swap_out/file_read/file_write points
  preempt   the thread yields the CPU right there before it goes on
  delay     the thread sleeps TICKS timer ticks there (others run); both
            only in the thread stopped at the point, never another
  steal     memory pressure: up to FRAMES free user frames are taken out of
            the pool right there (the thread goes on without them)
  release   up to FRAMES of the stolen frames go back to the pool there
  unreachable  nothing is done to the kernel; reaching the point is the
            finding: a point a correct kernel never reaches in that
            scenario (harness/run/verdict.py fails it, naming the point)
A call matches when THREAD (if given) is the running thread's name and
ARG (if given) equals the hook's argument. Each adapter maps points to
kernel functions (KernelAdapter.injection_site: the symbol, which calls
belong to the point, and the value a forced failure returns). Every
injection is logged with the point, hit count, thread and instruction count.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Optional

from harness.adapters.base import InjectionSite
from harness.errors import UsageError
from results.model import InjectionRecord
from oracles.schema import Field, SchemaError, in_range, one_of, validate_table

POINTS = ("frame_alloc", "page_alloc", "swap_out", "swap_in", "file_read", "file_write",
          "page_fault", "evict_choose", "yield")
KINDS = ("fail", "io_error", "preempt", "delay", "steal", "release", "unreachable")
MODES = ("once", "from", "probability")
IO_POINTS = ("swap_out", "swap_in", "file_read", "file_write")
FAILURE_KINDS = ("fail", "io_error")   # a forced return (Debugger.force_return)
# kind -> the request it writes (the value: 1, TICKS or FRAMES); preempt and
# delay are for the thread stopped at the hook only (KernelAdapter.request)
REQUESTS = {"preempt": "preempt", "delay": "delay_ticks", "steal": "steal_frames",
            "release": "release_frames"}
ALL_FRAMES = 4096                      # steal/release: every frame (the kernel's limit)


@dataclasses.dataclass(frozen=True)
class Injection:
    point: str
    kind: str = "fail"
    nth: int = 1
    mode: str = "once"
    probability: float = 0.0
    seed: int = 0
    thread: Optional[str] = None
    arg: Optional[int] = None
    ticks: int = 5
    frames: int = ALL_FRAMES

    def describe(self) -> str:
        when = {"once": f"call {self.nth}", "from": f"every call from {self.nth}",
                "probability": f"p={self.probability} seed={self.seed}"}[self.mode]
        who = f" by {self.thread}" if self.thread else ""
        return f"{self.kind} at {self.point}, {when}{who}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


INJECTION_FIELDS = {
    "point": Field(str, check=one_of(*POINTS)),
    "kind": Field(str, "fail", check=one_of(*KINDS)),
    "nth": Field(int, 1, check=in_range(1, 1 << 30)),
    "mode": Field(str, "once", check=one_of(*MODES)),
    "probability": Field(float, 0.0, check=lambda v: None if 0 <= v <= 1 else "must be between 0 and 1"),
    "seed": Field(int, 0),
    "thread": Field(str, None),
    "arg": Field(int, None),
    "ticks": Field(int, 5, check=in_range(1, 10000)),
    "frames": Field(int, ALL_FRAMES, check=in_range(1, ALL_FRAMES)),
}


def injection_from_table(table: dict, path: list) -> Injection:
    v = validate_table(table, INJECTION_FIELDS, path, "injection")
    if v["kind"] == "io_error" and v["point"] not in IO_POINTS:
        raise SchemaError(path + ["kind"], f"io_error applies to {', '.join(IO_POINTS)}, "
                          f"not {v['point']}")
    if v["mode"] == "probability" and v["probability"] == 0:
        raise SchemaError(path, "mode = \"probability\" needs a probability > 0")
    return Injection(**v)


def parse_cli(spec: str) -> Injection:
    """POINT:KIND[:key=value,...], e.g. frame_alloc:fail:nth=3,thread=child-sort."""
    parts = spec.split(":", 2)
    table: dict = {"point": parts[0]}
    if len(parts) > 1 and parts[1]:
        table["kind"] = parts[1]
    for item in (parts[2].split(",") if len(parts) > 2 and parts[2] else []):
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--inject {spec}: expected key=value, got {item!r}")
        table[key] = _cli_value(key, value)
    try:
        return injection_from_table(table, [])
    except SchemaError as e:
        raise UsageError(f"--inject {spec}: {'.'.join(map(str, e.path)) + ': ' if e.path else ''}"
                         f"{e.message}") from None


def _cli_value(key: str, value: str):
    kind = INJECTION_FIELDS.get(key)
    if kind is None or kind.kind is str:
        return value
    try:
        return float(value) if kind.kind is float else int(value, 0)
    except ValueError:
        return value  # reported by the schema check


def _site(adapter, point: str) -> InjectionSite:
    """ADAPTER's InjectionSite for POINT (an adapter that only names a
    symbol, through injection_symbol, gets every call and failure value 1)."""
    if hasattr(adapter, "injection_site"):
        return adapter.injection_site(point)
    return InjectionSite(adapter.injection_symbol(point))


def unobservable(adapter, injections) -> list[str]:
    """"KIND at POINT: why" for each of INJECTIONS that forces a failure
    ADAPTER's kernel has no way to notice, or asks for memory pressure or a
    delay it cannot be put under (KernelAdapter.injection_unobservable), or
    aims at one page (`arg`) where the kernel's function is not told the
    page (KernelAdapter.injection_unaimed); all known without booting. A
    scenario with one is NOT_JUDGED there."""
    ask = getattr(adapter, "injection_unobservable", None)
    aim = getattr(adapter, "injection_unaimed", None)
    out = []
    for inj in injections:
        why = ask(inj.point, inj.kind) if ask else None   # the adapter knows every kind
        if why and f"{inj.kind} at {inj.point}: {why}" not in out:
            out.append(f"{inj.kind} at {inj.point}: {why}")
        unaimed = aim(inj.point) if aim and inj.arg is not None and not why else None
        if unaimed and f"{inj.kind} at {inj.point} for {inj.arg:#x}: {unaimed}" not in out:
            out.append(f"{inj.kind} at {inj.point} for {inj.arg:#x}: {unaimed}")
    return out


def refuse_unobservable(adapter, injections, what: str) -> None:
    """UsageError if any of INJECTIONS (those of WHAT, e.g. "--inject" or
    "scenario evict-anon-werr") cannot be observed by ADAPTER's kernel:
    running it would give no verdict."""
    unseen = unobservable(adapter, injections)
    if unseen:
        raise UsageError(f"{what}: not judged on the {adapter.name} kernel, which cannot "
                         f"observe or carry out the injection ({'; '.join(unseen)})")


class Injector:
    """Arms one breakpoint per injection and applies it at the right hits.

    A breakpoint stays armed after its injection fired, though its later
    stops only count calls: removing it changes the guest's run, not only
    its cost (docs/guest-memory.md, "Stops taken vs needed": exploring
    fill-race on the evict-filling mutant then first fails at n = 39 with
    a kernel panic instead of n = 38 with a FAIL, and team8's
    cow-copy-allocfail parent dies of another fault), so every schedule
    recorded so far replays only with them."""

    def __init__(self, adapter, injections, icount=lambda: None):
        self.adapter = adapter
        self.injections = list(injections)
        self.icount = icount
        self.hits = {i: 0 for i in range(len(self.injections))}   # matching calls
        self.calls = {}                                            # point -> all calls
        self.records: list[InjectionRecord] = []
        self.addresses: set = set()   # where its breakpoints are (harness/run/stop_count.py)
        self.rngs = {i: random.Random(inj.seed) for i, inj in enumerate(self.injections)}

    def arm(self, dbg, inspector) -> None:
        self.inspector = inspector
        self.sites = {inj.point: _site(self.adapter, inj.point) for inj in self.injections}
        by_symbol: dict = {}
        for i, inj in enumerate(self.injections):
            by_symbol.setdefault(self.sites[inj.point].symbol, []).append(i)
        for symbol, indexes in by_symbol.items():
            self.addresses.add(dbg.add_breakpoint(symbol, self._callback(indexes)).address)

    def _accepted_points(self, dbg, indexes) -> set:
        """The points among INDEXES' injections this call belongs to; each
        counts the call."""
        points = set()
        for point in {self.injections[i].point for i in indexes}:
            accepts = self.sites[point].accepts
            if accepts is None or accepts(dbg):
                points.add(point)
                self.calls[point] = self.calls.get(point, 0) + 1
        return points

    def _callback(self, indexes):
        def hit(dbg, bp) -> bool:
            points = self._accepted_points(dbg, indexes)
            args: dict = {}   # register -> value, read once per call
            thread = None
            for i in indexes:
                inj = self.injections[i]
                if inj.point not in points:
                    continue
                if inj.thread is not None:
                    thread = thread or self.inspector.current_thread_name()
                    if thread != inj.thread:
                        continue
                if inj.arg is not None:
                    register = self.sites[inj.point].arg_register
                    if register not in args:
                        args[register] = dbg.register(register)
                    if inj.arg != args[register]:
                        continue
                self.hits[i] += 1
                if self._fires(i, inj):
                    self._apply(dbg, inj, thread or self.inspector.current_thread_name())
                    break  # one effect per call
            return False
        return hit

    def _fires(self, i: int, inj: Injection) -> bool:
        n = self.hits[i]
        if inj.mode == "once":
            return n == inj.nth
        if inj.mode == "from":
            return n >= inj.nth
        return self.rngs[i].random() < inj.probability

    def _apply(self, dbg, inj: Injection, thread: Optional[str]) -> None:
        if inj.kind in FAILURE_KINDS:
            dbg.force_return(self.sites[inj.point].failure_value)
        elif inj.kind != "unreachable":
            value = {"preempt": 1, "delay": inj.ticks}.get(inj.kind, inj.frames)
            self.adapter.request(dbg, REQUESTS[inj.kind], value)
        self.records.append(InjectionRecord(point=inj.point, hit=self.calls[inj.point],
                                            kind=inj.kind, thread=thread, icount=self.icount()))

    def fired(self) -> int:
        return len(self.records)
