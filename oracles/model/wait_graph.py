"""The wait-for graph of a stopped kernel: which thread waits on which lock,
semaphore or condition, who holds the lock (or is expected to signal the
semaphore), and whether the waits close a cycle.

Both kernel inspectors build one (KernelInspector.wait_graph(), through
harness/adapters/wait_objects.py); the hang watch (harness/run/hang_watch.py)
decides from it whether the kernel is deadlocked, and the verdict,
results.json, the text summary and the HTML report show it:

    tid 5 swap-kid waits for `frame_lock` held by tid 6 child, which waits
    for `filesys_lock` held by tid 5

A deadlock is a state no interrupt can end: every thread but idle is
blocked, and each waits on a lock, a semaphore or a condition. A thread
sleeping in timer_sleep (the timer wakes it), one waiting for a device
(the disk's interrupt wakes it) and one blocked where the inspector found
no wait object (who wakes it is unknown) are not evidence of a deadlock;
idle is never counted.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

LOCK = "lock"                # struct lock: the holder is recorded by the kernel
SEMAPHORE = "semaphore"      # a semaphore outside a lock: the signaller is inferred, if at all
CONDITION = "condition"      # a condition variable: whoever signals it is not recorded
TIMER = "timer sleep"        # timer_sleep: the timer interrupt wakes it
DEVICE = "device"            # waits for an interrupt (a disk transfer)
UNKNOWN = "unknown"          # blocked, but not on any wait object the inspector recognised
WAIT_KINDS = (LOCK, SEMAPHORE, CONDITION, TIMER, DEVICE, UNKNOWN)
EVIDENCE = frozenset({LOCK, SEMAPHORE, CONDITION})   # only another thread can end these

BLOCKED = "blocked"
DYING = "dying"       # exited (thread_exit): it will not run again


@dataclasses.dataclass
class Wait:
    """What one blocked thread waits on. TARGET names it for people
    ("`filesys_lock`", "the exit semaphore of tid 6", "a semaphore at
    0x8004a1c0 (heap)"); HOLDER is the tid holding the lock, or (INFERRED)
    the thread expected to signal the semaphore: the one whose struct
    thread, stack or exit record holds it; HOLDER_NOTE says who holds it
    when that is no live thread ("held by a thread that no longer
    exists"). An exit record reads "the exit" (TARGET) "of" (VERB) tid 6."""
    kind: str
    target: str
    address: Optional[int] = None
    holder: Optional[int] = None
    inferred: bool = False
    holder_note: str = ""
    verb: str = ""            # the words before HOLDER, if not the default ones

    @property
    def evidence(self) -> bool:
        return self.kind in EVIDENCE

    def relation(self) -> str:
        """The words between TARGET and HOLDER: VERB, else "held by" or
        (INFERRED) "to be signalled by"."""
        return self.verb or ("to be signalled by" if self.inferred else "held by")


@dataclasses.dataclass
class ThreadNode:
    tid: int
    name: str
    status: str                  # running, ready, blocked, dying
    idle: bool = False
    wait: Optional[Wait] = None  # only for blocked threads
    where: str = ""              # the kernel call chain (thread_report's form)

    @property
    def label(self) -> str:
        return f"tid {self.tid} {self.name}"


@dataclasses.dataclass
class WaitGraph:
    threads: list

    def node(self, tid: Optional[int]) -> Optional[ThreadNode]:
        return next((t for t in self.threads if t.tid == tid), None)

    def cycle(self) -> list:
        """The threads of a wait cycle (each waits for a lock held, or a
        semaphore to be signalled, by the next, the last by the first), in
        order from the lowest tid; [] if the waits close no cycle."""
        found = []
        for start in sorted(self.threads, key=lambda t: t.tid):
            path, node = [], start
            while node is not None and node.wait is not None and node not in path:
                path.append(node)
                node = self.node(node.wait.holder)
            if node is not None and node in path:
                loop = path[path.index(node):]
                first = min(range(len(loop)), key=lambda i: loop[i].tid)
                found = loop[first:] + loop[:first]
                break
        return found

    def deadlock_problem(self) -> Optional[str]:
        """None if this state is a deadlock (see the module's docstring);
        else why not, in a few words."""
        others = [t for t in self.threads if not t.idle and t.status != DYING]
        if not others:
            return "no thread besides idle"
        for t in others:
            if t.status != BLOCKED:
                return f"{t.label} is {t.status}"
            if t.wait is None or not t.wait.evidence:
                kind = t.wait.kind if t.wait else UNKNOWN
                return f"{t.label} waits on {_KIND_PHRASE.get(kind, kind)}"
        return None

    def signature(self) -> tuple:
        """What must stay the same between two looks for the state to be
        the same one: each thread's status and what it waits on."""
        return tuple(sorted((t.tid, t.status, t.wait.address if t.wait else None,
                             t.wait.holder if t.wait else None) for t in self.threads))

    def describe(self) -> str:
        """One line: the cycle if there is one, else every blocked thread's wait."""
        loop = self.cycle()
        if loop:
            text = loop[0].label
            for i, t in enumerate(loop):
                text += (", which" if i else "") + f" waits for {t.wait.target} " \
                        f"{t.wait.relation()} tid {t.wait.holder}"
                if i < len(loop) - 1:
                    text += f" {loop[i + 1].name}"
            return text
        blocked = [t for t in self.threads if t.status == BLOCKED and not t.idle]
        return "; ".join(self._wait_text(t) for t in blocked) or "no blocked thread"

    def _wait_text(self, t: ThreadNode) -> str:
        if t.wait is None:
            return f"{t.label} is blocked on nothing the inspector recognised"
        text = f"{t.label} waits for {t.wait.target}"
        if t.wait.holder is not None:
            holder = self.node(t.wait.holder)
            text += f" {t.wait.relation()} tid {t.wait.holder}"
            text += f" {holder.name}" if holder else ""
            if holder is not None and holder.status == DYING:
                text += ", which exited " + ("before signalling it" if t.wait.inferred else
                                             "without releasing it") + _exit_site(holder.where)
        if t.wait.holder_note:
            text += f" ({t.wait.holder_note})"
        return text


def _exit_site(where: str) -> str:
    """" (in F1 < F2 < F3)": the three frames of a dying thread's call chain
    WHERE (thread_report's form) that called thread_exit, where it ended;
    "" if WHERE has none."""
    frames = [f for f in where.split(" < ") if f and not f.startswith(("(", "..."))]
    exits = [i for i, f in enumerate(frames) if f.startswith("thread_exit+")]
    start = exits[0] + 1 if exits else 0
    return f" (in {' < '.join(frames[start:start + 3])})" if frames[start:] else ""


_KIND_PHRASE = {TIMER: "the timer (timer_sleep)", DEVICE: "a device interrupt",
                UNKNOWN: "nothing the inspector recognised"}
