"""A hash table of kernel structs walked in C over the mapped guest RAM
(harness/native/hash_walk.c, built by `make native` into
build/native/libvmcheck_hash_walk.so), loaded with ctypes.

    view = debugger.memory.native_view()     # None: no mapping, or not paging
    found = walk_hash(view, heads, ends, elem_offset, link_offset, size, limit)
    if found is not None:
        addresses, data = found              # entry i is data[i * size:(i + 1) * size]

walk_hash answers None, and the caller walks in Python
(harness/debug/typed_memory.py decode_hash), when the library is not built
or VMCHECK_NATIVE=0 turns it off, and whenever the walk meets what the
Python path handles differently: a page not read from the mapping (outside
RAM, the legacy window, not mapped: the stub's business or an error), a
NULL link, too many entries. What it answers is byte for byte what the
Python path reads (tests/integration/test_fast_capture.py compares whole
captures both ways).
"""

from __future__ import annotations

import array
import ctypes
import functools
import os
import threading
from typing import NamedTuple, Optional

from harness.config import build_dir

LIBRARY = "native/libvmcheck_hash_walk.so"
WALK_FULL = -3            # hash_walk.c: more entries than the buffer holds
FIRST_CAPACITY = 16384    # entries; a 20 MB process has ~12,300 struct pages


class RamView(NamedTuple):
    """The guest's RAM as this process maps it: ADDRESS of its first byte,
    SIZE, and PML4, the physical address of the page tables to translate
    virtual addresses through (CR3's)."""
    address: int
    size: int
    pml4: int


def library_path():
    return build_dir() / LIBRARY


@functools.lru_cache(maxsize=None)
def _walk_function():
    if os.environ.get("VMCHECK_NATIVE", "1") == "0":
        return None
    try:
        library = ctypes.CDLL(str(library_path()))
    except OSError:
        return None
    walk = library.vmcheck_walk_hash
    u64, pointer = ctypes.c_uint64, ctypes.c_void_p
    walk.restype = ctypes.c_long
    walk.argtypes = [pointer, u64, u64, pointer, pointer, u64, u64, u64, u64, u64,
                     pointer, pointer, u64]
    return walk


def available() -> bool:
    """Whether the C walk is built and turned on."""
    return _walk_function() is not None


def walk_hash(view: Optional[RamView], heads: list, ends, elem_offset: int, link_offset: int,
              entry_size: int, max_items: int) -> Optional[tuple[array.array, bytes]]:
    """(addresses, bytes) of the entries of a hash table whose bucket I's
    chain runs from link HEADS[I] to link ENDS[I] (see hash_walk.c), or None
    (walk it in Python). The addresses are an array of unsigned 64-bit
    integers: a list would make 12,000 int objects a capture that a caller
    decoding the bytes by columns never uses."""
    walk = _walk_function()
    if walk is None or view is None or not heads or entry_size <= 0:
        return None
    heads_array, ends_array = array.array("Q", heads), array.array("Q", ends)
    scratch = _SCRATCH
    capacity = max(1, min(max_items, scratch.capacity))
    while True:
        addresses, out = scratch.buffers(capacity, entry_size)
        count = walk(view.address, view.size, view.pml4, heads_array.buffer_info()[0],
                     ends_array.buffer_info()[0], len(heads), elem_offset, link_offset,
                     entry_size, max_items, addresses.buffer_info()[0],
                     ctypes.addressof(ctypes.c_char.from_buffer(out)), capacity)
        if count == WALK_FULL:
            capacity *= 4
            continue
        if count < 0:
            return None
        scratch.capacity = max(scratch.capacity, capacity)
        return addresses[:count], bytes(memoryview(out)[:count * entry_size])


class _Scratch(threading.local):
    """The walk's output buffers, kept from one walk to the next (per
    thread; the answer is copied out of them): made afresh for each walk,
    their ~2 MB were faulted in page by page each time (~500 page faults
    per capture of bigtouch's SPT, ~5 ms at load 4 here)."""
    capacity = FIRST_CAPACITY       # entries: grows to the most a walk needed
    _addresses = array.array("Q")
    _out = bytearray()

    def buffers(self, capacity: int, entry_size: int) -> tuple:
        """(addresses, out) with room for CAPACITY entries of ENTRY_SIZE bytes."""
        if len(self._addresses) < capacity:
            self._addresses = array.array("Q", bytes(8 * capacity))
        if len(self._out) < capacity * entry_size:
            self._out = bytearray(capacity * entry_size)
        return self._addresses, self._out


_SCRATCH = _Scratch()


class _PyBuffer(ctypes.Structure):
    """CPython's Py_buffer (Include/pybuffer.h)."""
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p),
                ("len", ctypes.c_ssize_t), ("itemsize", ctypes.c_ssize_t),
                ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p),
                ("strides", ctypes.c_void_p), ("suboffsets", ctypes.c_void_p),
                ("internal", ctypes.c_void_p)]


def buffer_address(obj) -> int:
    """The address of the first byte of OBJ's buffer (a read-only mmap or
    a memoryview of one, which ctypes' from_buffer refuses). The address
    stays good while OBJ's memory is neither closed nor resized: the
    caller keeps OBJ open (GuestRam keeps a view of its mapping until
    close())."""
    view = _PyBuffer()
    get, release = ctypes.pythonapi.PyObject_GetBuffer, ctypes.pythonapi.PyBuffer_Release
    get.argtypes, get.restype = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int], \
        ctypes.c_int
    release.argtypes, release.restype = [ctypes.POINTER(_PyBuffer)], None
    if get(obj, ctypes.byref(view), 0) != 0:      # PyBUF_SIMPLE; raises on failure
        raise ValueError("no buffer")
    try:
        return view.buf
    finally:
        release(ctypes.byref(view))
