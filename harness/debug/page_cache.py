"""Guest virtual memory read a whole 4 KiB page at a time and kept for the
stop, for readers that decode thousands of small structures (an SPT of
12,000 `struct page`s lies on a few hundred kernel pages).

    pages = PageCache(debugger.read_virt, debugger.client)
    pages.read(address, size)            # as read_virt, from the kept pages (or pages(...))
    buf, at = pages.buffer(address, 80)  # for struct.unpack_from(buf, at)

Each page is read once per stop through READ (Debugger.read_virt: from the
mapped RAM or over the stub, whichever the debugger uses), so every byte a
capture decodes still comes from one read of the debugger's memory, and
what is kept is dropped when CLIENT's epoch moves (the guest ran, or the
debugger wrote memory or a register). A page that cannot be read fails
each time it is asked, with the address and size asked, as READ would
have failed: a virtual page is mapped, or not, as a whole. Without a
CLIENT (a reader inside GDB, which cannot tell when the guest ran) nothing
is kept: each call reads what it asks through READ.
"""

from __future__ import annotations

from typing import Callable

from harness.debug.rsp import RspMemoryError

PAGE = 4096
NOT_MAPPED = b"E14"


class PageCache:
    """Pages of virtual memory read through READ(address, size) -> bytes,
    kept while CLIENT.epoch stays the same (CLIENT: an RspClient, or any
    object with an `epoch` that moves whenever memory may change; None:
    keep nothing)."""

    def __init__(self, read: Callable[[int, int], bytes], client=None):
        self._read = read
        self._client = client
        self._epoch = None
        self._pages: dict = {}       # page address -> bytes, or None: not readable
        self.page_reads = 0          # pages read through READ (for tests and benchmarks)

    def page(self, address: int) -> bytes:
        """The 4 KiB page at ADDRESS (page-aligned); RspMemoryError if it
        cannot be read."""
        if self._epoch != self._client.epoch:
            self._pages, self._epoch = {}, self._client.epoch
        data = self._pages.get(address, b"")
        if data:
            return data
        if data is None:
            raise RspMemoryError(address, PAGE, NOT_MAPPED, False)
        self.page_reads += 1
        try:
            data = self._pages[address] = self._read(address, PAGE)
        except RspMemoryError:
            self._pages[address] = None
            raise
        return data

    def read(self, address: int, size: int) -> bytes:
        """SIZE bytes at virtual ADDRESS (the contract of Debugger.read_virt)."""
        if self._client is None:
            return self._read(address, size)
        offset = address & (PAGE - 1)
        if offset + size <= PAGE:
            return self._page_or_fail(address - offset, address, size)[offset:offset + size]
        out = bytearray()
        while len(out) < size:
            at = address + len(out)
            offset = at & (PAGE - 1)
            length = min(size - len(out), PAGE - offset)
            out += self._page_or_fail(at - offset, at, length)[offset:offset + length]
        return bytes(out)

    __call__ = read       # a PageCache is a read function itself

    def kept(self) -> dict:
        """The pages kept for this stop, page address -> bytes (None: not
        readable), for loops that look pages up themselves; pages that
        page(), read() or buffer() read at this stop are added to it.
        Without a client: an empty dict, nothing added."""
        if self._client is None:
            return {}
        if self._epoch != self._client.epoch:
            self._pages, self._epoch = {}, self._client.epoch
        return self._pages

    def buffer(self, address: int, size: int) -> tuple:
        """(buffer, offset): SIZE bytes at ADDRESS are buffer[offset:offset +
        SIZE], without a copy when they lie on one page (for unpack_from)."""
        offset = address & (PAGE - 1)
        if offset + size <= PAGE and self._client is not None:
            if self._epoch == self._client.epoch:           # the common case, inline
                data = self._pages.get(address - offset)
                if data:
                    return data, offset
            return self._page_or_fail(address - offset, address, size), offset
        return self.read(address, size), 0

    def u64(self, address: int) -> int:
        """The little-endian 8 bytes at ADDRESS (a pointer)."""
        return int.from_bytes(self.read(address, 8), "little")

    def _page_or_fail(self, page: int, address: int, size: int) -> bytes:
        try:
            return self.page(page)
        except RspMemoryError as e:
            raise RspMemoryError(address, size, NOT_MAPPED, False) from e
