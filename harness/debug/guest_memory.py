"""Where the Debugger's memory reads come from while the guest is stopped.

Two readers with one interface (read_phys, read_virt; failures raise
RspMemoryError as the stub's reads do):

  StubMemory    over the GDB remote protocol, in blocks of READ_CHUNK bytes
                (the most one `m` packet returns from QEMU 7.2's stub), each
                block read once per stop: a per-stop cache, dropped whenever
                the guest runs or the debugger writes (RspClient.epoch).
  MappedMemory  from the guest's RAM mapped into the harness
                (harness/machine/guest_ram.py): physical reads are slices of
                the mapping; virtual reads translate through the page tables
                at CR3, walked on the mapping the way QEMU's stub walks them
                for a debugger (present bits and page sizes, no reserved-bit
                or permission checks), with the translations kept per stop.
                Addresses outside RAM, and the legacy VGA/BIOS window
                [0xA0000, 0x100000) where the CPU sees devices and ROM rather
                than the RAM beneath, go to the stub.

Registers and control flow stay on the remote protocol either way. A reader
may be asked only while the guest is stopped.
"""

from __future__ import annotations

from harness.debug.native_walk import RamView
from harness.debug.rsp import READ_CHUNK, RspClient, RspError, RspMemoryError

PAGE = 4096
LEGACY_HOLE = (0xA0000, 0x100000)
PTE_P, PTE_PS = 1, 1 << 7
ADDRESS_MASK = 0x000F_FFFF_FFFF_F000
CR0_PG, CR4_PAE, EFER_LMA = 1 << 31, 1 << 5, 1 << 10
NOT_MAPPED = b"E14"   # what QEMU's stub answers for an address it cannot read
LEAF_LEVELS = {3: 1 << 30, 2: 1 << 21}   # PDPTE, PDE with PS set: 1 GiB, 2 MiB


class StubMemory:
    """Reads over the remote protocol with a per-stop cache of aligned
    READ_CHUNK-byte blocks (CACHE=False: every read goes to the stub, as
    asked)."""

    def __init__(self, client: RspClient, cache: bool = True):
        self.client = client
        self.cache = cache
        self._epoch = None
        self._blocks: dict = {}      # (physical?, block address) -> bytes
        self.requests = 0            # `m` packets sent (for benchmarks)

    def read_phys(self, address: int, size: int) -> bytes:
        return self._read(address, size, True)

    def read_virt(self, address: int, size: int) -> bytes:
        return self._read(address, size, False)

    def _read(self, address: int, size: int, physical: bool) -> bytes:
        if not self.cache:
            self.requests += -(-size // READ_CHUNK)
            return self._stub_read(address, size, physical)
        if self._epoch != self.client.epoch:
            self._blocks, self._epoch = {}, self.client.epoch
        out = bytearray()
        while len(out) < size:
            at = address + len(out)
            block = at - at % READ_CHUNK
            data = self._blocks.get((physical, block))
            if data is None:
                data = self._fetch(block, at, size - len(out), physical)
                self._blocks[(physical, block)] = data
            out += data[at - block:at - block + size - len(out)]
        return bytes(out)

    def _fetch(self, block: int, at: int, wanted: int, physical: bool) -> bytes:
        """The block at BLOCK; a failure is reported for the bytes asked
        (AT, WANTED), as an uncached read would."""
        self.requests += 1
        try:
            return self._stub_read(block, READ_CHUNK, physical)
        except RspMemoryError as e:
            raise RspMemoryError(at, min(wanted, block + READ_CHUNK - at), NOT_MAPPED,
                                 physical) from e

    def _stub_read(self, address: int, size: int, physical: bool) -> bytes:
        if not physical:
            return self.client.read_memory(address, size)
        with self.client.physical_memory():
            return self.client.read_memory(address, size)


class MappedMemory:
    """Reads from RAM, a harness.machine.guest_ram.GuestRam (read(address,
    length), u64(address), size), for the guest behind CLIENT; what is not
    RAM goes to REMOTE (a StubMemory; without its cache, so that a device
    is read only where asked and afresh each time)."""

    def __init__(self, client: RspClient, ram, remote: StubMemory):
        self.client = client
        self.ram = ram
        self.remote = remote
        self._epoch = None
        self._pages: dict = {}       # (cr3, virtual page) -> physical page, -1: not mapped
        self.remote_reads = 0        # pieces that had to go to the stub

    def in_ram(self, address: int, size: int) -> bool:
        return 0 <= address and address + size <= self.ram.size and \
            (address + size <= LEGACY_HOLE[0] or address >= LEGACY_HOLE[1])

    def read_phys(self, address: int, size: int) -> bytes:
        self._require_stopped()
        if self.in_ram(address, size):
            return self.ram.read(address, size)
        out = bytearray()
        for at, length in _pieces(address, size):
            if self.in_ram(at, length):
                out += self.ram.read(at, length)
            else:
                self.remote_reads += 1
                out += self.remote.read_phys(at, length)
        return bytes(out)

    def read_virt(self, address: int, size: int) -> bytes:
        self._require_stopped()
        if 0 < size <= PAGE - address % PAGE:          # one page: the common case
            frame = self.translate(address)
            if frame is not None and frame >= 0:
                phys = frame + address % PAGE
                if self.in_ram(phys, size):
                    return self.ram.read(phys, size)
        out = bytearray()
        for at, length in _pieces(address, size):
            frame = self.translate(at)
            if frame is None:
                self.remote_reads += 1   # not paging in long mode: the stub knows
                out += self.remote.read_virt(at, length)
                continue
            if frame < 0:
                raise RspMemoryError(at, length, NOT_MAPPED, False)
            phys = frame + at % PAGE
            if self.in_ram(phys, length):
                out += self.ram.read(phys, length)
            else:
                self.remote_reads += 1
                out += self.remote.read_virt(at, length)
        return bytes(out)

    def local_page(self, address: int) -> bool:
        """Whether the whole 4 KiB page of virtual ADDRESS is read from the
        mapping (mapped, onto RAM as the CPU sees it): no round trip."""
        self._require_stopped()
        frame = self.translate(address)
        return frame is not None and frame >= 0 and self.in_ram(frame, PAGE)

    def translate(self, address: int) -> int | None:
        """The physical page of virtual ADDRESS's page under the current
        CR3: -1 if it is not mapped, None if the CPU is not in 4-level
        paging (the stub then translates)."""
        if not self._paging_now():
            return None
        if not -(1 << 47) <= _signed(address) < 1 << 47:
            return -1                # not canonical
        cr3 = self.client.read_register("cr3")
        key = (cr3, address - address % PAGE)
        frame = self._pages.get(key)
        if frame is None:
            frame = self._pages[key] = self._walk(cr3 & ADDRESS_MASK, address)
        return frame

    def native_view(self):
        """The RAM and the page tables at CR3 for the C walk
        (harness/debug/native_walk.py RamView), None when the CPU is not in
        4-level paging or the RAM's address is not known."""
        self._require_stopped()
        address = getattr(self.ram, "address", None)
        if address is None or not self._paging_now():
            return None
        return RamView(address(), self.ram.size, self.client.read_register("cr3") & ADDRESS_MASK)

    def _paging_now(self) -> bool:
        """Whether the CPU is in 4-level paging at this stop (the
        translations kept are dropped at each new stop)."""
        if self._epoch != self.client.epoch:
            self._pages, self._epoch = {}, self.client.epoch
            self._paging = self._four_level_paging()
        return self._paging

    def _four_level_paging(self) -> bool:
        regs = self.client.read_registers()     # one `g` packet, cached for the stop
        return bool(regs["cr0"] & CR0_PG and regs["cr4"] & CR4_PAE and regs["efer"] & EFER_LMA)

    def _walk(self, table: int, address: int) -> int:
        """The physical page of ADDRESS from the PML4 at TABLE, or -1."""
        for level, shift in ((4, 39), (3, 30), (2, 21), (1, 12)):
            entry_at = table + 8 * ((address >> shift) & 511)
            if not self.in_ram(entry_at, 8):
                return -1
            entry = self.ram.u64(entry_at)
            if not entry & PTE_P:
                return -1
            if level in LEAF_LEVELS and entry & PTE_PS:
                span = LEAF_LEVELS[level]
                base = entry & ADDRESS_MASK & ~(span - 1)
                return base + (address & (span - 1) & ~(PAGE - 1))
            table = entry & ADDRESS_MASK
        return table

    def _require_stopped(self) -> None:
        if self.client.running:
            raise RspError("cannot read guest memory: the target is running")


def _signed(address: int) -> int:
    address &= (1 << 64) - 1
    return address - (1 << 64) if address >> 63 else address


def _pieces(address: int, size: int):
    """(address, length) for each page-bounded piece of [ADDRESS, +SIZE)."""
    end = address + size
    while address < end:
        length = min(end, address - address % PAGE + PAGE) - address
        yield address, length
        address += length
