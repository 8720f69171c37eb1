"""The exact disk of a Pintos-KAIST kernel on a fake stopped guest
(harness/adapters/pintos_kaist/exact_disk.py, harness/x86/cpu_access.py): a request
served moves the sector between the image and the buffer, sets the A/D
bits an `insw`/`outsw` would, counts it in the struct disk and returns to
the caller; a request the function must handle itself (its ASSERTs), or
the device (a buffer that would fault, a busy channel), is left alone."""

import dataclasses

import pytest

from harness.adapters.pintos_kaist.driver import DiskField, DriverLayout
from harness.adapters.pintos_kaist.exact_disk import PintosExactDisk
from harness.adapters.base import PINTOS_KAIST_LAYOUT
from harness.x86.cpu_access import CR0_WP, AccessRefused, CpuMemory
from harness.debug.debugger import Breakpoint, Debugger
from harness.debug.rsp import RspMemoryError, StopReply
from harness.machine.sector_disks import SECTOR, SectorDisks
from oracles.model.page_tables import PTE_A, PTE_D, PTE_P, PTE_W
from tests.unit.pt_builder import PageTableBuilder

KERN_BASE = PINTOS_KAIST_LAYOUT.kern_base
CHANNELS = KERN_BASE + 0x200000
STACK = KERN_BASE + 0x300FF0
RETURN_TO = KERN_BASE + 0x201234
BUFFER = KERN_BASE + 0x400000     # a supervisor page, mapped in the page tables
USER_BUFFER = 0x10000000          # not mapped
READ_ENTRY, WRITE_ENTRY = KERN_BASE + 0x1000, KERN_BASE + 0x2000
LAYOUT = DriverLayout(READ_ENTRY, WRITE_ENTRY, CHANNELS, 2, 208, 112, 48,
                      DiskField(16, 8), DiskField(24, 4), DiskField(32, 8), DiskField(40, 8))
CAPACITY = 64
KERNEL_RW = PTE_P | PTE_W


def disk_address(index: int) -> int:
    return CHANNELS + (index // 2) * 208 + 112 + (index % 2) * 48


class FakeGuest:
    """The few Debugger calls the exact disk makes, over a sparse RAM whose
    direct map at KERN_BASE is read without page tables (as the GDB stub
    reads it through the kernel's own mapping)."""

    def __init__(self):
        self.tables = PageTableBuilder(ram_size=16 << 20)
        self.mem = self.tables.mem
        self.regs = {"cr3": self.tables.cr3, "cr0": CR0_WP | 1, "efer": 0x500, "rip": 0,
                     "rsp": STACK, "rdi": 0, "rsi": 0, "rdx": 0, "rax": 7}
        self.steps = 0
        self.local = False       # read_phys stands for the mapped RAM when True
        self.virtual_reads = 0   # read_virt calls in the last call()
        self.write_u64(STACK, RETURN_TO)
        for index in range(4):
            self.write_u64(disk_address(index) + 24, CAPACITY)

    @property
    def pc(self):
        return self.regs["rip"]

    def register(self, name):
        return self.regs[name]

    def read_registers(self):
        return dict(self.regs)

    def write_register(self, name, value):
        self.regs[name] = value

    def write_registers(self, values):
        self.regs.update(values)

    def reads_ram_locally(self):
        return self.local

    def _phys(self, address, size):
        if address < KERN_BASE:
            raise RspMemoryError(address, size, b"E14", False)
        return address - KERN_BASE

    def read_virt(self, address, size):
        self.virtual_reads += 1
        return self.mem.read_phys(self._phys(address, size), size)

    def write_virt(self, address, data):
        self.mem.write_phys(self._phys(address, len(data)), data)

    def read_u64(self, address):
        return int.from_bytes(self.read_virt(address, 8), "little")

    def write_u64(self, address, value):
        self.write_virt(address, value.to_bytes(8, "little"))

    def read_phys(self, address, size):
        return self.mem.read_phys(address, size)

    def write_phys(self, address, data):
        self.mem.write_phys(address, data)

    def physical_memory(self):
        import contextlib
        return contextlib.nullcontext()

    timeout_scale = 1

    def step(self):
        self.steps += 1

    def call(self, service, write, disk, sector, buffer):
        """Stops the guest at the entry of disk_read/disk_write with these
        arguments and runs the service's breakpoint callback."""
        entry = WRITE_ENTRY if write else READ_ENTRY
        self.regs.update(rip=entry, rsp=STACK, rdi=disk, rsi=sector, rdx=buffer)
        self.virtual_reads = 0
        service._callback(write)(self, Breakpoint(entry, "disk"))


@pytest.fixture
def images(tmp_path):
    paths = {}
    for index in range(4):
        paths[index] = tmp_path / f"disk{index}.img"
        paths[index].write_bytes(b"".join(bytes([index * 16 + n % 16]) * SECTOR
                                          for n in range(CAPACITY)))
    disks = SectorDisks.open(paths)
    yield paths, disks
    disks.close()


@pytest.fixture(params=[False, True], ids=["over-the-stub", "mapped-ram"])
def guest(request):
    g = FakeGuest()
    g.local = request.param
    g.tables.map(BUFFER, 0x400000, flags=KERNEL_RW, upper=KERNEL_RW)
    g.tables.map(BUFFER + 0x1000, 0x401000, flags=KERNEL_RW, upper=KERNEL_RW)
    for va in (CHANNELS, STACK):      # the kernel's data and stack, in the direct map
        g.tables.map(va & ~0xFFF, (va - KERN_BASE) & ~0xFFF, flags=KERNEL_RW, upper=KERNEL_RW)
    return g


def served_and_returned(guest, service, reads=0, writes=0):
    assert guest.regs["rip"] == RETURN_TO and guest.regs["rsp"] == STACK + 8
    assert (service.report.reads, service.report.writes) == (reads, writes)
    assert service.report.exact and service.report.device == 0


def left_to_the_function(guest, entry, service):
    assert guest.regs["rip"] == entry and guest.regs["rsp"] == STACK


def test_a_read_fills_the_buffer_sets_accessed_and_dirty_and_counts(guest, images):
    _, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.call(service, False, disk_address(3), 5, BUFFER)
    assert guest.read_virt(BUFFER, SECTOR) == bytes([3 * 16 + 5]) * SECTOR
    served_and_returned(guest, service, reads=1)
    assert guest.read_u64(disk_address(3) + 32) == 1          # read_cnt
    assert guest.read_u64(disk_address(3) + 40) == 0          # write_cnt
    levels = [guest.tables.read(guest.tables.entry_addr(level, BUFFER)) for level in (4, 3, 2, 1)]
    assert all(value & PTE_A for value in levels), [hex(v) for v in levels]
    assert levels[3] & PTE_D and not any(value & PTE_D for value in levels[:3])


@pytest.mark.parametrize("write", [False, True])
def test_with_the_ram_mapped_a_request_reads_nothing_through_the_debugger(guest, images, write):
    """The channel, the page walk, the sector to write and the return
    address come from the mapped RAM; the writes still go to the stub."""
    _, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.call(service, write, disk_address(2), 3, BUFFER)
    served_and_returned(guest, service, reads=int(not write), writes=int(write))
    assert (guest.virtual_reads == 0) == guest.local, guest.virtual_reads


def test_a_write_stores_the_buffer_in_the_image_and_sets_accessed_only(guest, images):
    paths, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.write_virt(BUFFER, b"\x5a" * SECTOR)
    guest.call(service, True, disk_address(1), 7, BUFFER)
    assert paths[1].read_bytes()[7 * SECTOR:8 * SECTOR] == b"\x5a" * SECTOR
    assert paths[1].read_bytes()[6 * SECTOR:7 * SECTOR] == bytes([16 + 6]) * SECTOR
    served_and_returned(guest, service, writes=1)
    assert guest.read_u64(disk_address(1) + 40) == 1
    leaf = guest.tables.read(guest.tables.entry_addr(1, BUFFER))
    assert leaf & PTE_A and not leaf & PTE_D


def test_a_buffer_across_two_pages_is_copied_to_both(guest, images):
    _, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.call(service, False, disk_address(0), 2, BUFFER + 0xF00)
    assert guest.read_virt(BUFFER + 0xF00, SECTOR) == bytes([2]) * SECTOR
    second = guest.tables.read(guest.tables.entry_addr(1, BUFFER + 0x1000))
    assert second & PTE_D
    served_and_returned(guest, service, reads=1)


@pytest.mark.parametrize("disk, sector, buffer", [
    (disk_address(2), CAPACITY, BUFFER),        # select_sector's ASSERT
    (disk_address(2) + 8, 0, BUFFER),           # not one of channels[].devices[]
    (CHANNELS - 48, 0, BUFFER),
    (disk_address(2), 0, 0),                    # ASSERT (buffer != NULL)
])
def test_requests_the_function_panics_on_are_left_to_it(guest, images, disk, sector, buffer):
    _, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.call(service, False, disk, sector, buffer)
    left_to_the_function(guest, READ_ENTRY, service)
    assert service.report.exact and service.report.device == 0   # the same panic every run
    assert guest.read_virt(BUFFER, SECTOR) == bytes(SECTOR)


def test_a_buffer_that_would_fault_goes_to_the_device_and_the_run_is_not_exact(guest, images):
    paths, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.call(service, True, disk_address(3), 1, USER_BUFFER)
    left_to_the_function(guest, WRITE_ENTRY, service)
    assert not service.report.exact and service.report.device == 1
    assert "the buffer would fault (0x10000000: not present" in service.report.reason
    assert "went to the device" in service.report.note()
    assert paths[3].read_bytes()[SECTOR:2 * SECTOR] == bytes([49]) * SECTOR


def test_a_read_into_a_read_only_page_faults_under_cr0_wp_only(guest, images):
    _, disks = images
    guest.tables.update(1, BUFFER, clear_bits=PTE_W)
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.call(service, False, disk_address(0), 1, BUFFER)
    left_to_the_function(guest, READ_ENTRY, service)
    assert "a write to a read-only page" in service.report.reason
    guest.regs["cr0"] &= ~CR0_WP
    guest.call(service, False, disk_address(0), 1, BUFFER)
    assert guest.read_virt(BUFFER, SECTOR) == bytes([1]) * SECTOR


def test_a_busy_channel_goes_to_the_device(guest, images):
    _, disks = images
    guest.write_u64(CHANNELS + 208 + 16, KERN_BASE + 0x500000)   # channels[1].lock.holder
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.call(service, False, disk_address(3), 0, BUFFER)
    left_to_the_function(guest, READ_ENTRY, service)
    assert service.report.device == 1 and "lock was held" in service.report.reason
    guest.call(service, False, disk_address(1), 0, BUFFER)       # the other channel is free
    assert guest.regs["rip"] == RETURN_TO and service.report.reads == 1


def test_a_call_another_breakpoint_took_is_not_served(guest, images):
    _, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    guest.regs.update(rip=RETURN_TO, rdi=disk_address(0), rsi=0, rdx=BUFFER)   # forced return
    service._callback(False)(guest, Breakpoint(READ_ENTRY, "disk_read"))
    assert guest.regs["rip"] == RETURN_TO and service.report.reads == 0


def test_cpu_memory_refuses_unmapped_reads_through_physical_mode(guest):
    memory = CpuMemory(guest, 16 << 20)       # no direct map: physical reads
    with pytest.raises(AccessRefused, match="not present"):
        memory.read(USER_BUFFER, 8)
    guest.write_virt(BUFFER + 8, b"abcdefgh")
    assert memory.read(BUFFER + 8, 8) == b"abcdefgh"


class FakeClient:
    """The RspClient calls Debugger._handle_stop and call_first make."""

    physical_mode = False

    def __init__(self):
        self.regs = {name: 0 for name in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
                                          "rsp", "r8", "r9", "r10", "r11", "r12", "r13",
                                          "r14", "r15", "rip", "eflags")}
        self.memory = {}

    def pc(self):
        return self.regs["rip"]

    def read_register(self, name):
        return self.regs[name]

    def write_register(self, name, value):
        self.regs[name] = value

    def write_memory(self, address, data):
        self.memory[address] = data

    def insert_breakpoint(self, address, hardware=False):
        pass

    def remove_breakpoint(self, address, hardware=False):
        pass


def test_a_code_replacing_breakpoint_runs_again_when_a_detour_comes_back():
    client = FakeClient()
    dbg = Debugger(client, timeout_scale=1)
    seen = []
    dbg.add_breakpoint(0x1000, lambda d, bp: seen.append(("preempt", d.pc)) or
                       d.call_first(0x2000))
    served = dbg.add_breakpoint(0x1000, lambda d, bp: seen.append(("serve", d.pc)))
    served.replaces_code = True
    client.regs.update(rip=0x1000, rsp=0x8000, rbx=42)
    stop = StopReply("signal", 5, raw=b"T05")
    assert dbg._handle_stop(stop, None) is None
    assert seen == [("preempt", 0x1000), ("serve", 0x2000)]    # the detour took the call
    frame = client.regs["rsp"]
    client.regs.update(rip=0x1000, rsp=frame + 8, rbx=0)       # thread_yield returned here
    assert dbg._handle_stop(stop, None) is None
    assert seen[2:] == [("serve", 0x1000)]                      # served now, not preempted again
    assert client.regs["rbx"] == 42 and client.regs["rsp"] == 0x8000


PIC = ("pic1: irr={slave:02x} imr=00 isr=00 hprio=0 irq_base=28 rr_sel=0 elcr=0c fnm=0\n"
       "pic0: irr=01 imr=00 isr=00 hprio=0 irq_base=20 rr_sel=0 elcr=00 fnm=0\n")


@pytest.mark.parametrize("port, irq_bit", [(0x3F6, 0x40), (0x376, 0x80)])
def test_a_channel_reset_is_stepped_and_its_interrupt_awaited_with_the_guest_stopped(
        guest, images, port, irq_bit):
    _, disks = images
    layout = dataclasses.replace(LAYOUT, reset_writes=(KERN_BASE + 0x3000,))
    service = PintosExactDisk(layout, disks, 16 << 20, KERN_BASE)
    answers = iter([PIC.format(slave=0), PIC.format(slave=0xC0 ^ irq_bit),
                    PIC.format(slave=irq_bit)])
    asked = []

    def monitor(command):
        asked.append(command)
        return next(answers)
    guest.regs.update(rdx=port, rax=0x04)
    service._settle_reset(guest, monitor)
    assert guest.steps == 1 and asked == ["info pic"] * 3
    assert service.report.exact


def test_other_port_writes_of_the_reset_are_not_awaited(guest, images):
    _, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    for port, value in ((0x3F6, 0x00), (0x1F6, 0x04), (0x376, 0x02)):
        guest.regs.update(rdx=port, rax=value)
        service._settle_reset(guest, lambda command: pytest.fail("no wait expected"))
    assert guest.steps == 0


def test_an_interrupt_that_never_comes_makes_the_run_not_exact(guest, images, monkeypatch):
    _, disks = images
    service = PintosExactDisk(LAYOUT, disks, 16 << 20, KERN_BASE)
    monkeypatch.setattr("harness.adapters.pintos_kaist.exact_disk.RESET_WAIT_S", 0.01)
    guest.regs.update(rdx=0x376, rax=0x04)
    service._settle_reset(guest, lambda command: PIC.format(slave=0x40))
    assert not service.report.exact and "did not raise IRQ 15" in service.report.reason



class HeldWatch:
    interval = 0.01

    def __init__(self, held_s):
        self.held_s = held_s

    def poll(self):
        return False


def test_time_the_harness_held_the_guest_moves_the_run_deadline_on():
    import time
    client = FakeClient()
    reply = StopReply("signal", 5, raw=b"T05")
    client.wait_stop = lambda timeout: reply
    dbg = Debugger(client, timeout_scale=1)
    past = time.monotonic() - 1
    assert dbg._wait_stop(past, HeldWatch(0.0)) is None         # the deadline has passed
    assert dbg._wait_stop(past, HeldWatch(10.0)) is reply       # 10 s of it were the harness's


def test_a_peek_the_local_walk_cannot_serve_goes_to_the_debugger(guest):
    """An address the page tables do not map (here: the fake reads the
    direct map without them) is read as the debugger reads it."""
    guest.local = True
    memory = CpuMemory(guest, 16 << 20, KERN_BASE)
    guest.write_virt(KERN_BASE + 0x500000, b"xy")
    guest.virtual_reads = 0
    assert memory.peek(KERN_BASE + 0x500000, 2) == b"xy" and guest.virtual_reads == 1
    guest.virtual_reads = 0
    assert memory.peek(BUFFER, 2) == bytes(2) and guest.virtual_reads == 0
