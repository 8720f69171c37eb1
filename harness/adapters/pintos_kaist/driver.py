"""Whether a Pintos-KAIST kernel's IDE driver can be served by the exact
disk (harness/adapters/pintos_kaist/exact_disk.py), and where its state is.

Every Pintos-KAIST tree has devices/disk.c: `disk_read (struct disk *d,
disk_sector_t sec_no, void *buffer)` and `disk_write (..., const void
*buffer)` move one 512-byte sector between the disk and BUFFER, and count
it in d->read_cnt / d->write_cnt (printed at power-off). The disks are
`channels[2].devices[2]`: channel C, device D is the drive QEMU was given
at IDE index 2C + D. What is checked, from the DWARF and the code of
kernel.o (a failed check is a DriverNotServable whose message is the
reason, said in the run's notes; the run then uses the device):

- both functions are defined out of line in devices/disk.c with those
  three parameters (a pointer to struct disk, a 4-byte integer, a pointer);
- struct disk has `channel`, `dev_no`, `capacity`, `read_cnt` and
  `write_cnt`; `channels` is an array of struct channel, each with a
  `lock` (whose `holder` says the channel is busy) and `devices[2]`;
- the functions call nothing but the base driver's helpers (lock, select,
  command, wait, transfer, panic): a tree whose disk_read also calls
  something else (a cache, a log) changed what a request does, and
  serving the request would skip that.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.debug.dwarf_types import TypeLookupError
from harness.x86.disasm import x86_64_decoder

DRIVER_FILE = "devices/disk.c"
READ, WRITE = "disk_read", "disk_write"
# What the base driver's disk_read/disk_write call (ASSERT and PANIC are debug_panic).
BASE_CALLEES = {
    READ: {"lock_acquire", "lock_release", "select_sector", "issue_pio_command", "sema_down",
           "wait_while_busy", "input_sector", "debug_panic"},
    WRITE: {"lock_acquire", "lock_release", "select_sector", "issue_pio_command", "sema_down",
            "wait_while_busy", "output_sector", "debug_panic"},
}
DISK_MEMBERS = ("channel", "dev_no", "capacity", "read_cnt", "write_cnt")
PORT_HELPER_MAX = 64      # bytes: io.h's outb at -O0 is about 30


class DriverNotServable(Exception):
    """The tree's disk driver is not the one the exact disk can stand in for."""


@dataclass(frozen=True)
class DiskField:
    offset: int
    size: int


@dataclass(frozen=True)
class DriverLayout:
    """Where the driver's state is in a kernel built from one tree."""
    read_entry: int           # first instruction of disk_read
    write_entry: int          # first instruction of disk_write
    channels: int             # address of channels[0]
    channel_count: int
    channel_size: int
    devices_offset: int       # of devices[0] in struct channel
    disk_size: int            # sizeof (struct disk)
    lock_holder: DiskField    # channel.lock.holder, from the channel's start
    capacity: DiskField       # members of struct disk
    read_cnt: DiskField
    write_cnt: DiskField
    reset_writes: tuple = ()  # reset_write_sites()

    def disk_index(self, disk_address: int):
        """The IDE index (2 * channel + device) of the struct disk at
        DISK_ADDRESS, or None if it is not one of channels[].devices[]."""
        offset = disk_address - self.channels
        channel, within = divmod(offset, self.channel_size)
        device, rest = divmod(within - self.devices_offset, self.disk_size)
        if offset < 0 or channel >= self.channel_count or rest or device not in (0, 1) \
                or within < self.devices_offset:
            return None
        return 2 * channel + device

    def channel_address(self, index: int) -> int:
        return self.channels + (index // 2) * self.channel_size


def driver_layout(symbols) -> DriverLayout:
    """The DriverLayout of the kernel of SYMBOLS (a SymbolTable);
    DriverNotServable with the reason if it cannot be served."""
    types = symbols.types
    try:
        entries = {name: _checked_function(symbols, name) for name in (READ, WRITE)}
        disk = types.get("struct disk").resolved()
        members = {name: _integer_member(disk, name) for name in DISK_MEMBERS[2:]}
        if disk.member("channel").type.resolved().kind != "pointer":
            raise DriverNotServable("struct disk's `channel` is not a pointer")
        channels = types.variable("channels")
        array = channels.type.resolved()
        channel = array.target.resolved() if array.kind == "array" else None
        if channel is None or channel.kind != "struct" or not array.count:
            raise DriverNotServable(f"`channels` is a {array.name}, not an array of struct channel")
        devices = channel.member("devices")
        holder = channel.member("lock").type.resolved().member("holder")
        lock_offset = channel.member("lock").offset
    except TypeLookupError as e:
        raise DriverNotServable(f"{DRIVER_FILE} is not the base driver's shape: {e}") from None
    if devices.type.resolved().kind != "array" or devices.type.resolved().count != 2:
        raise DriverNotServable("struct channel's `devices` is not an array of two struct disk")
    return DriverLayout(entries[READ], entries[WRITE], channels.address, array.count,
                        channel.size, devices.offset, disk.size,
                        DiskField(lock_offset + holder.offset, 8), **members,
                        reset_writes=reset_write_sites(symbols))


def _integer_member(struct, name: str) -> DiskField:
    member = struct.member(name)
    kind = member.type.resolved()
    if kind.kind not in ("base", "enum") or member.bit_size is not None:
        raise DriverNotServable(f"struct disk's `{name}` is a {kind.name}, not an integer")
    return DiskField(member.offset, kind.size)


def _checked_function(symbols, name: str) -> int:
    """NAME's entry address after the checks of the module comment."""
    symbol = symbols.find(name)
    if symbol is None or symbol.kind != "func" or not symbol.size:
        raise DriverNotServable(f"the kernel has no function {name} ({DRIVER_FILE})")
    function = symbols.types.function(name)
    if not function.compile_unit.endswith(DRIVER_FILE):
        raise DriverNotServable(f"{name} is defined in {function.compile_unit}, not {DRIVER_FILE}")
    kinds = [t.resolved() for _, t in function.parameters]
    if len(kinds) != 3 or kinds[0].kind != "pointer" or kinds[0].target is None \
            or kinds[0].target.resolved().name != "struct disk" \
            or kinds[1].kind != "base" or kinds[1].size != 4 or kinds[2].kind != "pointer":
        shown = ", ".join(t.name for _, t in function.parameters)
        raise DriverNotServable(f"{name} takes ({shown}), not (struct disk *, "
                                "disk_sector_t, void *)")
    other = sorted(set(called_functions(symbols, symbol)) - BASE_CALLEES[name])
    if other:
        raise DriverNotServable(f"{name} calls {', '.join(other)}, which the base driver's "
                                f"{name} does not (a changed driver)")
    return symbol.address


def called_functions(symbols, symbol) -> list:
    """Names of the functions SYMBOL's code calls; an indirect call through
    anything but `movabs REG, TARGET` is "<indirect call>"."""
    names = []
    for target in _call_targets(symbols, symbol):
        found = symbols.function_at(target) if target is not None else None
        names.append(found[0].name if found and found[1] == 0 else "<indirect call>")
    return names


def _instructions(symbols, symbol) -> list:
    code = symbols.code(symbol.address, symbol.size)
    if code is None:
        raise DriverNotServable(f"no code for {symbol.name} in the kernel's ELF file")
    return list(x86_64_decoder().disasm_lite(code, symbol.address))


def _call_targets(symbols, symbol) -> list:
    """Addresses SYMBOL's code calls, in order: `call TARGET`, or `call REG`
    after `movabs REG, TARGET` (the large code model); None for a call
    whose target is not known from the code."""
    targets, loaded = [], {}
    for _, _, mnemonic, ops in _instructions(symbols, symbol):
        if mnemonic == "movabs" and ", 0x" in ops:
            register, value = ops.split(", ")
            loaded[register] = int(value, 16)
        elif mnemonic == "call":
            targets.append(int(ops, 16) if ops.startswith("0x") else loaded.get(ops))
    return targets


def reset_write_sites(symbols) -> tuple:
    """Addresses of the `out dx, al` instructions through which the
    driver's reset_channel writes the device-control registers (its own,
    or those of the port helper it calls, outb at -O0): the exact disk
    stops there to take the reset's interrupt in guest time. Empty if
    there is no reset_channel."""
    reset = symbols.find("reset_channel")
    if reset is None or not reset.size:
        return ()
    functions = [reset]
    for target in set(_call_targets(symbols, reset)) - {None}:
        found = symbols.function_at(target)
        if found and found[1] == 0 and found[0].size <= PORT_HELPER_MAX:
            functions.append(found[0])
    return tuple(sorted(address for function in functions
                        for address, _, mnemonic, ops in _instructions(symbols, function)
                        if mnemonic == "out" and ops == "dx, al"))
