"""The harness's view of a stopped guest, read through GDB's own
connection (GDB's Python API), for code that runs inside `gdb`.

The walker, the inspectors and the fault decoder read a stopped machine
through a few methods of harness.debug.debugger.Debugger: register(),
read_virt(), read_phys() inside physical_memory(), pc, symbols,
describe(), read_u64(). GdbInferior offers the same methods over the
`gdb` module, so inside GDB (harness/ingdb/) they run unchanged on the
machine the user is looking at: QEMU's stub serves one client, and that
client is GDB then.

Physical reads switch QEMU's stub with `maintenance packet
Qqemu.PhyMemMode:1` (and back), flushing GDB's memory cache on each side
of the switch so no virtual read is answered from physical bytes.
Registers are read from the innermost frame, whatever frame the user has
selected (`up` does not change CR3 or rip).
"""

from __future__ import annotations

import contextlib

from harness.debug.debugger import DebuggerError
from harness.debug.typed_memory import read_struct

PHYS_ON = "maintenance packet Qqemu.PhyMemMode:1"
PHYS_OFF = "maintenance packet Qqemu.PhyMemMode:0"
FLUSH = "maintenance flush dcache"


class GdbInferior:
    """Debugger-like reads of the stopped guest through GDB (GDB: the
    `gdb` module, or a stand-in with execute(), selected_inferior(),
    newest_frame() and MemoryError). SYMBOLS: the kernel's SymbolTable."""

    def __init__(self, gdb, symbols=None):
        self.gdb = gdb
        self.symbols = symbols
        self.physical_mode = False

    # --- registers --------------------------------------------------------

    def register(self, name: str) -> int:
        try:
            value = self.gdb.newest_frame().read_register(name)
        except (ValueError, self.gdb.error) as e:
            raise DebuggerError(f"register {name} not readable in gdb: {e}") from None
        return int(value) & (1 << 64) - 1

    @property
    def pc(self) -> int:
        return self.register("rip")

    # --- memory -----------------------------------------------------------

    def read_virt(self, address: int, size: int) -> bytes:
        if self.physical_mode:
            raise DebuggerError("virtual memory access inside physical_memory()")
        return self._read(address, size)

    def read_phys(self, address: int, size: int) -> bytes:
        with self.physical_memory():
            return self._read(address, size)

    @contextlib.contextmanager
    def physical_memory(self):
        """Physical addresses for the reads inside (one switch for many)."""
        if self.physical_mode:
            yield
            return
        self._switch(PHYS_ON)
        self.physical_mode = True
        try:
            yield
        finally:
            self.physical_mode = False
            self._switch(PHYS_OFF)

    def _switch(self, packet: str) -> None:
        self.gdb.execute(FLUSH, to_string=True)
        reply = self.gdb.execute(packet, to_string=True)
        if "OK" not in reply:
            raise DebuggerError(f"QEMU's stub refused {packet.split()[-1]}: {reply.strip()}")

    def _read(self, address: int, size: int) -> bytes:
        try:
            return bytes(self.gdb.selected_inferior().read_memory(address, size))
        except self.gdb.MemoryError as e:
            space = "physical" if self.physical_mode else "virtual"
            raise DebuggerError(f"cannot read {size} bytes at {space} {address:#x}: {e}") \
                from None

    def read_u64(self, address: int) -> int:
        return int.from_bytes(self.read_virt(address, 8), "little")

    # --- symbols and types ------------------------------------------------

    def describe(self, address: int) -> str:
        return self.symbols.describe(address) if self.symbols else hex(address)

    def read_struct(self, address: int, type_name: str):
        return read_struct(self.read_virt, address, self.symbols.types.get(type_name))
