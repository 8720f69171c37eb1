"""The exact disk of a Pintos-KAIST kernel: its disk requests served in
guest time, so that a run is the same instruction for instruction each
time (docs/exact-disk.md says why this way and what was measured).

Pintos-KAIST's IDE driver sleeps on a semaphore until the disk interrupt,
and QEMU completes a request on the host's time (a thread pool, then a
bottom half in its main loop): under `-icount` the guest instruction at
which the interrupt arrives depends on the host. Here the driver is not
used: a breakpoint at the entry of disk_read and disk_write (found and
checked by driver.py) stops the guest, the harness moves the
sector between the disk image on the host (harness/machine/sector_disks.py) and
the guest's buffer (harness/x86/cpu_access.py: through the page tables, with
the A/D bits an `insw`/`outsw` would set), adds one to the disk's
read_cnt or write_cnt, and returns to the caller (rip = the return
address popped from the stack), as the function would. The guest is
stopped meanwhile, so its clock does not move.

A request is left to the function (the device) when serving it would not
be what the function does:
- the disk is not one of channels[].devices[], the buffer is NULL or the
  sector is past the disk's capacity: the function's ASSERT panics before
  any I/O (the same panic on every run: still exact);
- the channel's lock is held (a request the device is serving: the
  caller must wait for it), or a page of the buffer would fault (the
  driver's `insw` would take that page fault, which the harness cannot
  stand in for): the device serves it, on the host's time, and the run is
  not exact from there; the report says how many and why (first reason).
"""

from __future__ import annotations

import re
import time
from typing import Optional

from harness.adapters.exact_disk import ExactDiskReport
from harness.adapters.pintos_kaist.driver import DriverLayout
from harness.x86.cpu_access import AccessRefused, CpuMemory
from harness.machine.sector_disks import SECTOR, DiskRequestError

CTL_SRST = 0x04                                 # device-control register: software reset
CONTROL_PORT_IRQS = {0x3F6: 14, 0x376: 15}      # the PC's two ATA channels
RESET_WAIT_S = 2.0
_SLAVE_IRR = re.compile(r"^pic1: irr=([0-9a-f]+)", re.MULTILINE)


class PintosExactDisk:
    """Serves one run's disk_read/disk_write calls from DISKS (SectorDisks
    by IDE index) for a kernel with driver LAYOUT, RAM_SIZE bytes of RAM and
    all of it mapped at DIRECT_MAP (KERN_BASE) in every address space."""

    def __init__(self, layout: DriverLayout, disks, ram_size: int, direct_map: int):
        self.layout = layout
        self.disks = disks
        self.ram_size = ram_size
        self.direct_map = direct_map
        self.report = ExactDiskReport(exact=True)
        self.on_held = None     # f(seconds): the wall time each request held the guest

    def close(self) -> None:
        self.disks.close()

    def arm(self, dbg, monitor) -> None:
        """Breakpoints at both entries, and at the channel resets' register
        writes. Arm after any injection at these functions: their callbacks
        run first and may take the call (a forced failure returns at once;
        a preemption comes back here, where the debugger runs this
        callback again: replaces_code). MONITOR(command) runs an HMP
        command of the machine (the PIC's state)."""
        for entry, write in ((self.layout.read_entry, False), (self.layout.write_entry, True)):
            bp = dbg.add_breakpoint(entry, self._callback(write))
            bp.replaces_code = True
        for address in self.layout.reset_writes:
            dbg.add_breakpoint(address, lambda d, bp: self._settle_reset(d, monitor))
        if not self.layout.reset_writes:
            self._not_exact("the disks' reset interrupts come on the host's time (no write "
                            "of the device-control register found in reset_channel)")

    def _settle_reset(self, dbg, monitor) -> bool:
        """At an `out dx, al` of reset_channel: if it sets SRST in a
        channel's device-control register, does the write (one step, with
        interrupts held off as QEMU steps) and waits, the guest stopped,
        until QEMU's reset (a bottom half in its main loop, which ends by
        raising the channel's interrupt) has happened; the interrupt is
        then taken at the next instruction, every run."""
        registers = dbg.read_registers()
        irq = CONTROL_PORT_IRQS.get(registers["rdx"] & 0xFFFF)
        if irq is None or not registers["rax"] & CTL_SRST:
            return False
        dbg.step()
        deadline = time.monotonic() + RESET_WAIT_S * dbg.timeout_scale
        while not _irq_pending(monitor("info pic"), irq):
            if time.monotonic() > deadline:
                self._not_exact(f"QEMU did not raise IRQ {irq} within {RESET_WAIT_S:g} s of "
                                "a disk channel's reset")
                break
            time.sleep(0.001)
        return False

    def _callback(self, write: bool):
        def serve(dbg, bp) -> bool:
            if dbg.pc == bp.address:     # else an injection took this call
                began = time.monotonic()
                self._serve(dbg, write)
                if self.on_held is not None:
                    self.on_held(time.monotonic() - began)
            return False
        return serve

    def _serve(self, dbg, write: bool) -> None:
        """One request, in as few packets as the stub allows: the registers
        in one `g`; the channel, the page walk, the sector to write and the
        return address read from the mapped RAM where the run has it
        (CpuMemory); the sector read and the counter written with one `M`
        each; rip and rsp in one `G`."""
        registers = dbg.read_registers()     # one `g` packet for all of them
        disk_address, sector, buffer = (registers[r] for r in ("rdi", "rsi", "rdx"))
        sector &= 0xFFFFFFFF            # disk_sector_t: 32 bits in esi
        index = self.layout.disk_index(disk_address)
        if index is None or buffer == 0:
            return                      # the function's ASSERT panics
        memory = CpuMemory(dbg, self.ram_size, self.direct_map)
        channel_address = self.layout.channel_address(index)
        channel = memory.peek(channel_address, self.layout.channel_size)
        disk = channel[disk_address - channel_address:][:self.layout.disk_size]
        if sector >= _field(disk, self.layout.capacity):
            return                      # select_sector's ASSERT panics
        if _field(channel, self.layout.lock_holder):
            return self._to_device("the channel's lock was held (a device request in flight)")
        try:
            if write:
                self.disks.write(index, sector, memory.read(buffer, SECTOR))
            else:
                memory.write(buffer, self.disks.read(index, sector))
        except AccessRefused as e:
            return self._to_device(f"the buffer would fault ({e})")
        except DiskRequestError as e:
            return self._to_device(f"the disk image refused it ({e})")
        counter = self.layout.write_cnt if write else self.layout.read_cnt
        dbg.write_virt(disk_address + counter.offset,
                       (_field(disk, counter) + 1).to_bytes(counter.size, "little"))
        if write:
            self.report.writes += 1
        else:
            self.report.reads += 1
        return_to_caller(dbg, memory)

    def _to_device(self, reason: str) -> None:
        if not self.report.device:
            self._not_exact(reason)
        self.report.device += 1

    def _not_exact(self, reason: str) -> None:
        if self.report.exact:
            self.report.exact, self.report.reason = False, reason


def _irq_pending(pic_info: str, irq: int) -> bool:
    """Whether HMP `info pic` output PIC_INFO shows IRQ (8..15, the slave
    8259, QEMU's "pic1") requested."""
    match = _SLAVE_IRR.search(pic_info)
    return bool(match) and bool(int(match.group(1), 16) & (1 << (irq - 8)))


def _field(data: bytes, field) -> int:
    return int.from_bytes(data[field.offset:field.offset + field.size], "little")


def return_to_caller(dbg, memory: Optional[CpuMemory] = None) -> None:
    """At a void function's first instruction: returns as its `ret` would
    (rip = the return address popped from the stack, read through MEMORY
    if given, else the debugger), rip and rsp written in one packet. rax is
    left as it is (a void function's rax is the caller's to ignore)."""
    rsp = dbg.register("rsp")
    return_address = dbg.read_u64(rsp) if memory is None else \
        int.from_bytes(memory.peek(rsp, 8), "little")
    dbg.write_registers({"rip": return_address, "rsp": rsp + 8})
