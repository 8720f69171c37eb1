"""Guest virtual memory read a whole 4 KiB page at a time and kept for the
stop, for readers that decode thousands of small structures (an SPT of
12,000 `struct page`s lies on a few hundred kernel pages).

    pages = kernel_pages(debugger)
    pages.read(address, size)            # as read_virt (or pages(address, size))
    buf, at = pages.buffer(address, 80)  # for struct.unpack_from(buf, at)

Each page is read once per stop through READ (Debugger.read_virt: from the
mapped RAM or over the stub, whichever the debugger uses), so every byte a
capture decodes still comes from one read of the debugger's memory, and
what is kept is dropped when CLIENT's epoch moves (the guest ran, or the
debugger wrote memory or a register). Only pages that LOCAL says are cheap
to read whole are kept (with guest RAM mapped: pages in RAM as the CPU sees
it); other reads go through READ as asked, so memory over the stub costs
the round trips it cost before. A page that cannot be read fails each time
it is asked, with the address and size asked, as READ would have failed:
a virtual page is mapped, or not, as a whole. Without a CLIENT (a reader
inside GDB, which cannot tell when the guest ran) nothing is kept.
"""

from __future__ import annotations

from typing import Callable, Optional

from harness.debug.rsp import RspMemoryError

PAGE = 4096
NOT_MAPPED = b"E14"
_UNREADABLE, _NOT_KEPT = None, False        # in _pages, besides a page's bytes


def kernel_pages(debugger) -> "PageCache":
    """A PageCache over DEBUGGER's virtual reads (a Debugger, or a reader
    inside GDB), keeping the pages its memory reader (Debugger.memory)
    reads locally."""
    def local(address: int) -> bool:
        local_page = getattr(debugger.memory, "local_page", None)
        return bool(local_page and local_page(address))
    def native_view():
        view = getattr(debugger.memory, "native_view", None)
        return view() if view is not None else None
    client = getattr(debugger, "client", None)
    if client is None:
        return PageCache(debugger.read_virt)
    return PageCache(debugger.read_virt, client, local, native_view)


class PageCache:
    """Pages of virtual memory read through READ(address, size) -> bytes,
    kept while CLIENT.epoch stays the same (CLIENT: an RspClient, or any
    object with an `epoch` that moves whenever memory may change; None:
    keep nothing); LOCAL(page address): whether to keep that page (default:
    every page); NATIVE_VIEW() (default: none): the mapped RAM and page
    tables for loops done in C (harness/debug/native_walk.py), or None."""

    def __init__(self, read: Callable[[int, int], bytes], client=None,
                 local: Optional[Callable[[int], bool]] = None,
                 native_view: Optional[Callable[[], object]] = None):
        self._read = read
        self._client = client
        self._local = local
        self._native_view = native_view
        self._epoch = None
        self._pages: dict = {}       # page address -> bytes, _UNREADABLE or _NOT_KEPT
        self.page_reads = 0          # pages read through READ (for tests and benchmarks)

    def kept(self) -> dict:
        """The pages kept for this stop, page address -> bytes (or a false
        value: not kept), for loops that look pages up themselves; what
        page(), read() or buffer() read at this stop is added to it.
        Without a client: an empty dict, nothing added."""
        if self._client is None:
            return {}
        if self._epoch != self._client.epoch:
            self._pages, self._epoch = {}, self._client.epoch
        return self._pages

    def native_view(self):
        """The RamView for a walk in C at this stop, None if there is none."""
        return self._native_view() if self._native_view is not None else None

    def page(self, address: int) -> Optional[bytes]:
        """The 4 KiB page at ADDRESS (page-aligned), None if it is not kept
        (read it as asked); RspMemoryError if it cannot be read."""
        pages = self.kept()
        data = pages.get(address, b"")
        if data:
            return data
        if data is _UNREADABLE:
            raise RspMemoryError(address, PAGE, NOT_MAPPED, False)
        if data is _NOT_KEPT or self._client is None or \
                (self._local is not None and not self._local(address)):
            pages[address] = _NOT_KEPT
            return None
        self.page_reads += 1
        try:
            data = pages[address] = self._read(address, PAGE)
        except RspMemoryError:
            pages[address] = _UNREADABLE
            raise
        return data

    def read(self, address: int, size: int) -> bytes:
        """SIZE bytes at virtual ADDRESS (the contract of Debugger.read_virt):
        from the kept pages, or all through READ if one of them is not kept."""
        offset = address & (PAGE - 1)
        if self._client is None:
            return self._read(address, size)
        if offset + size <= PAGE:
            data = self._page_or_fail(address - offset, address, size)
            return self._read(address, size) if data is None else data[offset:offset + size]
        pieces, at = [], address
        while at < address + size:
            offset = at & (PAGE - 1)
            length = min(address + size - at, PAGE - offset)
            data = self._page_or_fail(at - offset, at, length)
            if data is None:
                return self._read(address, size)
            pieces.append(data[offset:offset + length])
            at += length
        return b"".join(pieces)

    __call__ = read       # a PageCache is a read function itself

    def buffer(self, address: int, size: int) -> tuple:
        """(buffer, offset): SIZE bytes at ADDRESS are buffer[offset:offset +
        SIZE], without a copy when they lie on a kept page (for unpack_from)."""
        offset = address & (PAGE - 1)
        if offset + size <= PAGE and self._client is not None:
            if self._epoch == self._client.epoch:           # the common case, inline
                data = self._pages.get(address - offset)
                if data:
                    return data, offset
            data = self._page_or_fail(address - offset, address, size)
            if data is not None:
                return data, offset
        return self.read(address, size), 0

    def _page_or_fail(self, page: int, address: int, size: int) -> Optional[bytes]:
        try:
            return self.page(page)
        except RspMemoryError as e:
            raise RspMemoryError(address, size, NOT_MAPPED, False) from e
