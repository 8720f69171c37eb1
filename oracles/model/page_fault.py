"""The x86-64 page-fault error code (#PF), decoded once: what kind of
access faulted, from which mode, and why (harness/x86/fault_decode.py
checks it against the instruction; reports describe it)."""

from __future__ import annotations

import dataclasses

PAGE_FAULT_VECTOR = 14      # #PF's interrupt vector


@dataclasses.dataclass(frozen=True)
class PageFaultErrorCode:
    """The #PF error code, decoded once (Intel SDM vol. 3, 4.7)."""
    value: int

    present = property(lambda self: bool(self.value & 1))   # else not present
    write = property(lambda self: bool(self.value & 2))     # else read
    user = property(lambda self: bool(self.value & 4))      # else supervisor
    reserved_bit = property(lambda self: bool(self.value & 8))
    fetch = property(lambda self: bool(self.value & 16))    # instruction fetch

    def describe(self) -> str:
        parts = ["protection violation" if self.present else "page not present",
                 "instruction fetch" if self.fetch else
                 ("write" if self.write else "read"),
                 "user mode" if self.user else "supervisor mode"]
        if self.reserved_bit:
            parts.append("reserved bit set in a paging entry")
        return ", ".join(parts)
