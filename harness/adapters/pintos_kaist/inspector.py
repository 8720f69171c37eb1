"""KernelInspector for Pintos-KAIST kernels: threads, page-table roots,
supplemental page tables and the user pool, read through the kernel's DWARF
types with no help from the (student's) kernel.

Threads. Pintos-KAIST has no list of all threads, but each thread sits at
the start of its own 4 KiB page with `magic` == THREAD_MAGIC, and thread
pages come from palloc's kernel pool (`static struct pool kernel_pool` in
threads/palloc.c: a `struct bitmap *used_map` of used pages and their
`base`). So: every used kernel-pool page whose thread magic matches is a
thread; a thread with a non-NULL `pml4` that is not dying is a user
process (pid = tid), unless it was stopped inside TEARDOWN_FUNCTIONS
(process_cleanup: exit or exec is destroying its SPT and page tables, and
may block on disk I/O halfway, e.g. writing back a dirty mmap page; the
invariants between SPT and page tables do not hold for it then, and it
is not a state the student's kernel will keep). The running thread is the page of the stack pointer
in kernel mode, the page below the TSS's rsp0 in user mode (the kernel
sets rsp0 to the running thread's page end at every switch).

Kernel memory is read by kernel virtual address through the current page
tables: Pintos-KAIST maps all of RAM at KERN_BASE in every address space.
"""

from __future__ import annotations

from typing import Optional, Union

from harness.adapters.pintos_kaist.discovery import SptDiscovery
from harness.adapters.pintos_kaist.spt import SptLayout, SptNotRecognised, discover_layout
from harness.adapters.pintos_kaist.waits import pintos_wait_graph
from harness.adapters.thread_report import (describe_chain, entry_return, thread_line,
                                            walk_frame_pointers)
from harness.debug.dwarf_types import TypeLookupError
from harness.debug.page_cache import kernel_pages
from harness.debug.rsp import RspMemoryError
from harness.adapters.inspector import KernelInspector, ProcessInfo
from harness.debug.symbols import CallChain
from harness.debug.typed_memory import read_bitmap, read_struct, read_value
from oracles.model.address_layout import AddressLayout
from oracles.model.machine_state import PoolState
from oracles.model.wait_graph import WaitGraph

THREAD_MAGIC = 0xCD6ABF4B       # threads/thread.c
PAGE = 4096
CPL_MASK = 3
TEARDOWN_FUNCTIONS = frozenset({"process_cleanup", "supplemental_page_table_kill"})


class PintosInspectError(Exception):
    """The kernel's thread or pool structures are not where Pintos keeps them."""


class PintosInspector(KernelInspector):
    """Reads one stopped Pintos-KAIST guest. LAYOUT_MAPPING names SPT
    members where discovery cannot (see harness/adapters/pintos_kaist/spt.py)."""

    def __init__(self, debugger, symbols, address_layout: AddressLayout,
                 layout_mapping: Optional[dict] = None):
        self.dbg = debugger
        self.address_layout = address_layout
        self.symbols = symbols
        self.types = symbols.types
        # kernel memory, read a page at a time and kept for the stop
        self.read = kernel_pages(debugger)
        try:
            self.thread_type = self.types.get("struct thread")
            self.magic_offset = self.thread_type.offset_of("magic")
            self.status_dying = self.types.get("enum thread_status").enumerators["THREAD_DYING"]
        except (TypeLookupError, KeyError) as e:
            raise PintosInspectError(f"not a Pintos-KAIST kernel's debug information: {e}") from None
        self.threads_by_pid: dict[int, int] = {}   # from the last processes()
        self.discovery: Optional[SptDiscovery] = None
        try:
            self.layout: Optional[SptLayout] = discover_layout(self.types, layout_mapping)
            self.layout_problem: Optional[str] = None
            self.discovery = SptDiscovery(self.layout, self.types, self.read, address_layout,
                                          layout_mapping)
        except SptNotRecognised as e:
            self.layout, self.layout_problem = None, str(e)

    # ---- threads ----

    def current_thread(self) -> Optional[int]:
        """Address of the running thread's struct thread, None if neither the
        stack pointer's page nor the TSS's points at a thread."""
        from_stack = self.dbg.register("rsp") & ~(PAGE - 1)
        from_tss = self._tss_thread()
        user_mode = self.dbg.register("cs") & CPL_MASK
        order = (from_tss, from_stack) if user_mode else (from_stack, from_tss)
        for address in order:
            if address is not None and self._has_magic(address):
                return address
        return None

    def _tss_thread(self) -> Optional[int]:
        try:
            tss = self.types.variable("tss")
        except TypeLookupError:
            return None
        pointer = read_value(self.read, tss.address, tss.type)
        if not pointer:
            return None
        task_state = tss.type.resolved().target
        rsp0 = read_value(self.read, pointer + task_state.offset_of("rsp0"),
                          task_state.member("rsp0").type)
        return (rsp0 - 1) & ~(PAGE - 1) if rsp0 else None

    def _has_magic(self, page: int) -> bool:
        """Whether kernel page PAGE (a direct-map address, as palloc gives)
        starts a struct thread. With the guest RAM mapped, its 4 bytes are
        read at the page's physical address, and a page that is not RAM is
        no thread: the kernel pool's bitmap marks the 96 pages of the
        legacy hole (VGA and ROMs, 640 KiB to 1 MiB) used, and reading them
        over the stub took ~290 round trips, 6 ms of a 50 ms capture.
        Over the stub, through the current page tables."""
        at = page + self.magic_offset
        memory = getattr(self.dbg, "memory", None)
        try:
            if getattr(memory, "ram", None) is not None:
                phys = self.address_layout.phys(at)
                if not memory.in_ram(phys, 4):
                    return False
                raw = memory.read_phys(phys, 4)
            else:      # 4 bytes of each used kernel page: not worth keeping the page
                raw = self.dbg.read_virt(at, 4)
        except RspMemoryError:
            return False
        return int.from_bytes(raw, "little") == THREAD_MAGIC

    def thread_pages(self, current: Optional[int]) -> list[int]:
        """Addresses of the live thread pages: used kernel-pool pages with
        the thread magic, plus CURRENT (the running thread) if not None.
        Without a readable kernel pool, CURRENT alone."""
        try:
            used = self._pool_pages("kernel_pool", used=True)
        except PintosInspectError:
            used = []
        pages = [p for p in used if self._has_magic(p)]
        if current is not None and current not in pages:
            pages.append(current)
        return pages

    def threads(self, current: Optional[int]) -> list:
        """struct thread values of every live thread (not dying)."""
        out = []
        for page in self.thread_pages(current):
            t = read_struct(self.read, page, self.thread_type)
            if t["status"] != self.status_dying:
                out.append(t)
        return out

    # ---- KernelInspector ----

    def processes(self) -> list[ProcessInfo]:
        current = self.current_thread()
        out = []
        self.threads_by_pid = {}
        for t in self.threads(current):
            pml4 = t["pml4"]
            if pml4 < self.address_layout.kern_base:   # NULL: a kernel thread, or no table
                continue
            if t.address != current and self._tearing_down(t.address):
                continue
            self.threads_by_pid[t["tid"]] = t.address
            out.append(ProcessInfo(t["tid"], t.string("name"), self.address_layout.phys(pml4),
                                   t.address == current))
        return out

    def _tearing_down(self, page: int) -> bool:
        """Whether the (not running) thread at PAGE was switched out inside
        one of TEARDOWN_FUNCTIONS, from the kernel call chain its saved
        `tf` gives (False when that cannot be read)."""
        try:
            rip, rbp = self._saved_rip_rbp(page)
        except (TypeLookupError, LookupError, RspMemoryError):
            return False
        # the whole chain (a report shows the innermost frames only): teardown
        # is near the bottom of a deep stack, e.g. 11 frames below a disk wait
        chain = walk_frame_pointers(self.read, self.symbols, rip, [], rbp, page, page + PAGE)
        where = self.symbols.function_at(rip)
        names = [where[0].name if where else None]
        names += [self.symbols.caller_of(address) for address in chain.returns]
        return any(name in TEARDOWN_FUNCTIONS for name in names)

    def _saved_rip_rbp(self, page: int) -> tuple[int, int]:
        """rip and rbp that thread_launch saved in the `tf` of the thread at PAGE."""
        return tuple(int.from_bytes(self.read(page + self.thread_type.offset_of(member), 8),
                                    "little") for member in ("tf.rip", "tf.R.rbp"))

    def observe(self, checkpoint: int, walks: dict, programs: dict) -> None:
        """Reads every process's SPT and lets the discovery learn from it:
        WALKS pid -> page tables; PROGRAMS name -> ProgramImage (the running
        process's, when its code at the stop is that program's, tells which
        pages are code and which data)."""
        if self.discovery is None:
            return
        current = self.current_thread()
        running = next((pid for pid, t in self.threads_by_pid.items() if t == current), None)
        where = f"checkpoint {checkpoint}" if checkpoint >= 0 else "a fault stop"
        self.discovery.observe(dict(self.threads_by_pid), walks, where,
                               running, self._running_image(running, programs))

    def _running_image(self, pid: Optional[int], programs: dict):
        """The program the running process executes, if the code at the
        stopped user instruction is that program's (a process's name is
        not always its program: a forked child before exec)."""
        if pid is None or not self.dbg.register("cs") & CPL_MASK:
            return None
        name = self.thread_type.member("name")
        raw = self.read(self.threads_by_pid[pid] + name.offset, name.type.resolved().size)
        image = programs.get(raw.split(b"\0", 1)[0].decode(errors="replace"))
        rip = self.dbg.register("rip")
        try:
            code = self.read(rip, 16)
        except RspMemoryError:
            return None
        return image if image is not None and image.elf_bytes(rip, 16) == code else None

    def spt(self, proc: ProcessInfo) -> tuple[Optional[dict], Optional[str]]:
        if self.discovery is None:
            return None, self.layout_problem
        if proc.pid not in self.threads_by_pid:
            return None, f"no thread with tid {proc.pid} (call processes() first)"
        spt, why = self.discovery.spt(proc.pid)
        if why is not None:
            return None, f"SPT of {proc.name} (tid {proc.pid}) unreadable: {why}"
        return spt, None

    def layout_notes(self) -> list[str]:
        """Which member of struct page was used for what and how it was
        identified (or why not), as of now."""
        if self.discovery is None:
            return [f"SPT: {self.layout_problem}"]
        return self.discovery.notes()

    def current_thread_name(self) -> str:
        current = self.current_thread()
        if current is None:
            return "?"
        name = self.thread_type.member("name")
        raw = self.read(current + name.offset, name.type.resolved().size)
        return raw.split(b"\0", 1)[0].decode(errors="replace")

    def pools(self) -> PoolState:
        """palloc's user pool (its bitmap's pages, physical range) and the swap map."""
        try:
            base, used = self._pool("user_pool")
        except PintosInspectError:
            base, used = None, None
        swap = self._swap_bits()
        start = None if base is None else self.address_layout.phys(base)
        return PoolState(user_frames_total=None if used is None else len(used),
                         user_frames_free=None if used is None else used.count(False),
                         swap_slots_total=None if swap is None else len(swap),
                         swap_slots_used=None if swap is None else sum(swap),
                         swap_slots_in_use=None if swap is None else
                         frozenset(i for i, used in enumerate(swap) if used),
                         user_pool=None if base is None else (start, start + len(used) * PAGE))

    def _swap_bits(self) -> Optional[list[bool]]:
        """The swap map's bits, None where the map is not identified (or
        swap is not set up yet)."""
        if self.discovery is None:
            return None
        return self.discovery.swap_bits()

    def thread_report(self) -> list[str]:
        """Every thread (harness/adapters/thread_report.py): the running one
        from the CPU's registers, the others from the registers
        thread_launch saved in their `tf` (rbp chain: Pintos builds with
        -fno-omit-frame-pointer)."""
        current = self.current_thread()
        statuses = {v: k.removeprefix("THREAD_").lower() for k, v in
                    self.types.get("enum thread_status").enumerators.items()}
        lines = []
        for page in self.thread_pages(current):
            t = read_struct(self.read, page, self.thread_type)
            status = statuses.get(t["status"], str(t["status"]))
            lines.append(thread_line(t.string("name"), t["tid"], status,
                                     self._thread_where(page, page == current)))
        return lines

    def wait_graph(self) -> WaitGraph:
        """What each thread waits on (harness/adapters/pintos_kaist/waits.py)."""
        return pintos_wait_graph(self)

    def _thread_where(self, page: int, running: bool) -> str:
        return self.describe_chain(self.thread_chain(page, running))

    def thread_chain(self, page: int, running: bool) -> Union[CallChain, str]:
        """The kernel call chain of the thread at PAGE (frame pointers), or
        where it is when it has none ("user mode at ...")."""
        known: list[int] = []
        if running:
            rip, rbp = self.dbg.register("rip"), self.dbg.register("rbp")
            if self.dbg.register("cs") & CPL_MASK:
                return f"user mode at {rip:#x}"
            known = entry_return(self.read, self.symbols, rip, self.dbg.register("rsp"))
        else:
            rip, rbp = self._saved_rip_rbp(page)
        return walk_frame_pointers(self.read, self.symbols, rip, known, rbp, page, page + PAGE)

    def describe_chain(self, chain: Union[CallChain, str]) -> str:
        """thread_chain's result as the thread list shows it."""
        return chain if isinstance(chain, str) else describe_chain(self.symbols, chain)

    # ---- palloc pools ----

    def _pool(self, name: str) -> tuple[int, list[bool]]:
        """(base, used bits) of palloc's pool NAME, one bool per page."""
        try:
            variable = self.types.variable(name)
            pool = read_value(self.read, variable.address, variable.type)
            bits = read_bitmap(self.read, self.types.get("struct bitmap"), pool["used_map"])
        except (TypeLookupError, LookupError, RspMemoryError) as e:
            raise PintosInspectError(f"cannot read palloc's {name}: {e}") from None
        return pool["base"], bits

    def _pool_pages(self, name: str, used: bool) -> list[int]:
        """Kernel VAs of the pages of pool NAME that are (not) in use."""
        base, bits = self._pool(name)
        return [base + i * PAGE for i, bit in enumerate(bits) if bit == used]
