"""KernelInspector for the reference kernel: reads its stable symbols and
types (docs/kernel-introspection.md) through DWARF.

  vmcheck_all_threads      struct list of struct thread (member allelem)
  vmcheck_current_thread   struct thread *
  thread.pml4              direct-map address of the PML4 (NULL: kernel thread)
  thread.process->memory.spt   struct supplemental_page_table: `pages`, a
                           hash of struct page through spt_elem
  vmcheck_frame_table      frames[frame_cnt] (kva, sharer_cnt, pin_cnt), lock
  vmcheck_swap_map         slot_cnt, used_cnt, used (bitmap of slots in use)
  vmcheck_user_pages_total / vmcheck_user_pages_free
"""

from __future__ import annotations

import functools
from typing import Optional, Union

from harness.adapters.reference.waits import reference_wait_graph
from harness.adapters.thread_report import (describe_chain, entry_return, thread_line,
                                            walk_frame_pointers)
from harness.adapters.inspector import KernelInspector, ProcessInfo
from harness.debug.symbols import CallChain
from harness.debug.page_cache import kernel_pages
from harness.debug.struct_decoder import StructDecoder
from harness.debug.typed_memory import (StructureError, hash_rows, iter_list, read_bitmap,
                                        read_struct, read_value)
from oracles.model.address_layout import AddressLayout
from oracles.model.machine_state import (ANON, FILE, UNINIT, PoolState, SptPage,
                                         SptPageSlots)
from oracles.model.wait_graph import WaitGraph

VM_TYPES = {0: UNINIT, 1: ANON, 2: FILE}
SWAP_SLOT_NONE = (1 << 64) - 1
PAGE = 4096
KSTACK_PAGES = 4          # THREAD_KSTACK_PAGES, include/kernel/thread.h
SWITCH_FRAME_RBP = 32     # switch.S: rbp among the six saved registers,
SWITCH_FRAME_RET = 48     # then the return address
# of struct page, in offset order (one unpack), the anonymous arm's swap
# slot last (the union follows the other members)
PAGE_MEMBERS = ("ops", "va", "writable", "frame", "busy", "dirty", "anon.slot")
SMALL_SPT_SHARE = 16     # _frame_table: a small SPT reads its frame records one by one


class ReferenceInspector(KernelInspector):
    kstack_pages = KSTACK_PAGES

    def __init__(self, debugger, symbols, address_layout: AddressLayout):
        self.dbg = debugger
        self.address_layout = address_layout
        self.symbols = symbols
        self.types = symbols.types
        self.thread_type = self.types.get("struct thread")
        self.page_type = self.types.get("struct page")
        # kernel memory, read a page at a time and kept for the stop
        self.pages = kernel_pages(debugger)
        self.read = self.pages.read
        self._ops: dict = {}
        self._frames: Optional[tuple] = None
        self._frame_bytes: Optional[bytes] = None
        self._page_columns = StructDecoder(self.page_type, PAGE_MEMBERS)
        self._arms = {}          # union arms other than anon's (in PAGE_MEMBERS)
        for kind, arm in ((UNINIT, "uninit"), (FILE, "file")):
            self._arms[kind] = StructDecoder(self.page_type, tuple(
                f"{arm}.source.{m}" for m in ("file", "offset", "read_bytes")))

    def _variable(self, name: str):
        var = self.types.variable(name)
        return read_value(self.read, var.address, var.type)

    def processes(self) -> list[ProcessInfo]:
        threads = self.types.variable("vmcheck_all_threads")
        current = self._variable("vmcheck_current_thread")
        self._threads = {}
        self._frames = self._frame_bytes = None   # frames and files are read again at each stop
        self._files: dict = {}
        out = []
        for t in iter_list(self.read, threads.address, threads.type, self.thread_type, "allelem"):
            if t["pml4"]:
                info = ProcessInfo(t["tid"], t.string("name"), self.address_layout.phys(t["pml4"]),
                                   t.address == current)
                self._threads[info.pid] = t
                out.append(info)
        return out

    def current_thread_name(self) -> str:
        return read_struct(self.read, self._variable("vmcheck_current_thread"),
                           self.thread_type).string("name")

    def thread_report(self) -> list[str]:
        """Every thread on vmcheck_all_threads (harness/adapters/
        thread_report.py), walked through frame pointers (the kernel is
        built -fno-omit-frame-pointer): the running thread from the CPU's
        registers, a waiting one from what switch_threads saved at
        switch_rsp (rbp, then its return address)."""
        threads = self.types.variable("vmcheck_all_threads")
        current = self._variable("vmcheck_current_thread")
        statuses = {v: k.removeprefix("THREAD_").lower() for k, v in
                    self.types.get("enum thread_status").enumerators.items()}
        lines = []
        for t in iter_list(self.read, threads.address, threads.type, self.thread_type, "allelem"):
            status = statuses.get(t["status"], str(t["status"]))
            lines.append(thread_line(t.string("name"), t["tid"], status,
                                     self._thread_where(t, t.address == current)))
        return lines

    def _thread_where(self, t, running: bool) -> str:
        return self.describe_chain(self.thread_chain(t, running))

    def thread_chain(self, t, running: bool) -> Union[CallChain, str]:
        """Thread T's kernel call chain (frame pointers), or where it is when
        it has none ("user mode at ...", "not started yet")."""
        low = t["kstack"]
        if running:
            pc, rbp = self.dbg.register("rip"), self.dbg.register("rbp")
            if self.dbg.register("cs") & 3:
                return f"user mode at {pc:#x}"
            known = entry_return(self.read, self.symbols, pc, self.dbg.register("rsp"))
        else:
            saved = t["switch_rsp"]
            pc, known = None, [int.from_bytes(self.read(saved + SWITCH_FRAME_RET, 8), "little")]
            if known[0] == self.symbols.address_of("switch_entry"):
                return "not started yet (switch_entry)"
            rbp = int.from_bytes(self.read(saved + SWITCH_FRAME_RBP, 8), "little")
        return walk_frame_pointers(self.read, self.symbols, pc, known, rbp, low,
                                   low + KSTACK_PAGES * PAGE)

    def describe_chain(self, chain: Union[CallChain, str]) -> str:
        """thread_chain's result as the thread list shows it."""
        return chain if isinstance(chain, str) else describe_chain(self.symbols, chain)

    def wait_graph(self) -> WaitGraph:
        """What each thread waits on (harness/adapters/reference/waits.py)."""
        return reference_wait_graph(self)

    # ---- SPT ----

    def spt(self, proc: ProcessInfo) -> tuple[Optional[dict], Optional[str]]:
        thread = self._threads.get(proc.pid)
        if thread is None or not thread["process"]:
            return None, "not a user process"
        process_type = self.types.get("struct process")
        spt_addr = thread["process"] + process_type.offset_of("memory.spt")
        spt_type = self.types.get("struct supplemental_page_table")
        spt = read_struct(self.read, spt_addr, spt_type)
        if not spt["pml4"]:
            return None, "the process has no SPT at this moment (exec or exit in progress)"
        try:
            rows = hash_rows(self.pages, spt_addr + spt_type.offset_of("pages"),
                             spt_type.member("pages").type, self.page_type, "spt_elem")
            return self._spt_pages(rows[1]), None
        except StructureError as e:
            return None, f"the SPT hash is broken: {e}"

    def _spt_pages(self, data: bytes) -> dict:
        """va -> SptPage of each struct page in DATA (hash_rows' buffer, one
        page after another); a page's union arm is decoded by its type.
        The loop runs once per page (12,000 at a 20 MB process's stop), so
        its members come a column at a time (one iter_unpack over DATA:
        PAGE_MEMBERS, the anonymous arm's swap slot with them), the frame
        record is decoded inline and the SptPage made from its slots
        (SptPageSlots)."""
        out, arms, kinds, kern_base = {}, self._arms, self._ops, self.address_layout.kern_base
        page_size = self.page_type.resolved().size
        base, size, count, frame_record = self._frame_table(len(data) // page_size)
        end = (count - 1) * size
        new_page, page_class = SptPageSlots, SptPage
        columns = self._page_columns.iter_values(data, page_size)
        for at, (ops, va, writable, frame, busy, dirty, slot) in zip(
                range(0, len(data), page_size), columns):
            kind = kinds.get(ops) or self._ops_type(ops)
            file_id = offset = read_bytes = None
            if kind == ANON:
                if slot == SWAP_SLOT_NONE:
                    slot = None
            else:
                slot = None
                if kind in arms:
                    vm_file, offset, read_bytes = arms[kind].values(data, at)
                    if vm_file:
                        file_id = self._file_id(vm_file)
                    else:
                        offset = read_bytes = None
            start = frame - base
            if frame and 0 <= start <= end and not start % size:
                kva, sharers, pins = frame_record(start)
                page = new_page(va, kind, writable, kva - kern_base,    # address_layout.phys
                                slot, file_id, offset,
                                read_bytes, dirty, sharers > 1, bool(busy) or pins > 0, True)
            else:    # not resident (or no record of the frame table)
                page = new_page(va, kind, writable, None, slot, file_id, offset,
                                read_bytes, dirty, None, bool(busy), True)
            page.__class__ = page_class
            out[va] = page
        return out

    def _ops_type(self, ops: int) -> str:
        if ops not in self._ops:
            t = read_struct(self.read, ops, self.types.get("struct page_operations"))
            self._ops[ops] = VM_TYPES.get(t["type"], f"type{t['type']}")
        return self._ops[ops]

    def _frame_table(self, pages: int) -> tuple:
        """(base, record size, record count, record) of the frame table, for
        an SPT of PAGES pages: record(offset) is the (kva, sharer_cnt,
        pin_cnt) of the record OFFSET bytes past BASE (an address is a
        record when it is BASE plus a multiple of the size, below the
        count). The records come from one bulk read of the table per stop,
        or, for an SPT with few pages (at most 1/SMALL_SPT_SHARE as many as
        there are records: a small process, the usual checkpoint), one by
        one through the stop's page cache (the frame table of a 64 MB
        guest is 385 KB)."""
        if self._frames is None:
            table = self.types.variable("vmcheck_frame_table")
            ft = read_value(self.read, table.address, table.type)
            frame_type = self.types.get("struct frame")
            self._frames = (ft["frames"], frame_type.resolved().size, ft["frame_cnt"],
                            StructDecoder(frame_type, ("kva", "sharer_cnt", "pin_cnt")).values)
        base, size, count, decode = self._frames
        if pages * SMALL_SPT_SHARE <= count:
            return base, size, count, lambda at: decode(self.read(base + at, size))
        if self._frame_bytes is None:
            self._frame_bytes = self.read(base, size * count) if count else b""
        return base, size, count, functools.partial(decode, self._frame_bytes)

    def _file_id(self, vm_file: int) -> Optional[int]:
        if vm_file not in self._files:
            self._files[vm_file] = self._read_file_id(vm_file)
        return self._files[vm_file]

    def _read_file_id(self, vm_file: int) -> Optional[int]:
        vf = read_struct(self.read, vm_file, self.types.get("struct vm_file"))
        if not vf["file"]:
            return None
        f = read_struct(self.read, vf["file"], self.types.get("struct file"))
        return read_struct(self.read, f["inode"], self.types.get("struct inode"))["start"]

    # ---- pools ----

    def pools(self) -> PoolState:
        swap = self._variable("vmcheck_swap_map")
        table = self._variable("vmcheck_frame_table")
        return PoolState(user_frames_total=self._variable("vmcheck_user_pages_total"),
                         user_frames_free=self._variable("vmcheck_user_pages_free"),
                         swap_slots_total=swap["slot_cnt"], swap_slots_used=swap["used_cnt"],
                         vm_busy=bool(table["lock.holder"]),
                         swap_slots_in_use=self._swap_slots_in_use(swap["used"]))

    def _swap_slots_in_use(self, bitmap: int) -> frozenset:
        """The slots the swap map's bitmap at BITMAP marks used (none
        without a swap disk: no bitmap)."""
        if not bitmap:
            return frozenset()
        bits = read_bitmap(self.read, self.types.get("struct bitmap"), bitmap)
        return frozenset(i for i, used in enumerate(bits) if used)
