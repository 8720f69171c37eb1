"""Write watchpoints of one Debugger: a stop right after the guest wrote to
a watched range (the GDB stub's Z2; QEMU runs the writing instruction to its
end, then reports the stop with a `watch` pair naming the address).

A watchpoint touches no code page, unlike a breakpoint, whose page QEMU
then runs one instruction per translated block (docs/guest-memory.md,
"Stops taken vs needed"); writes to the watched range's page take QEMU's
slow path instead, which changes no block and no point where an interrupt
lands.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional


@dataclasses.dataclass(eq=False)
class Watchpoint:
    """LENGTH bytes at ADDRESS; CALLBACK(debugger, watchpoint) runs at each
    stop there (a true result ends run_until)."""
    address: int
    length: int
    callback: Callable
    hits: int = 0


class Watchpoints:
    """The write watchpoints inserted through CLIENT (an RspClient)."""

    def __init__(self, client):
        self.client = client
        self._by_address: dict = {}

    def add(self, address: int, length: int, callback: Callable) -> Watchpoint:
        wp = Watchpoint(address, length, callback)
        self.client.insert_watchpoint(address, length)
        self._by_address[address] = wp
        return wp

    def remove(self, wp: Watchpoint) -> None:
        if self._by_address.get(wp.address) is wp:
            del self._by_address[wp.address]
            self.client.remove_watchpoint(wp.address, wp.length)

    def clear(self) -> None:
        for wp in list(self._by_address.values()):
            self.remove(wp)

    def hit_by(self, info: dict) -> Optional[Watchpoint]:
        """The watchpoint a stop reply's pairs (StopReply.info) name, None
        if the stop was not a watchpoint's."""
        said = info.get("watch")
        if said is None:
            return None
        try:
            address = int(said, 16)
        except ValueError:
            return None
        return next((wp for wp in self._by_address.values()
                     if wp.address <= address < wp.address + wp.length), None)
