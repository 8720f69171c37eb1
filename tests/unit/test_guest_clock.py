"""GuestClock (harness/machine/guest_clock.py): where the kernel's `ticks`
are read from. With the guest's RAM mapped, from the mapping once HMP
`gva2gpa` has placed them in RAM (one translation a run); before paging is
on (QEMU answers an address past RAM) and without a mapping, with HMP `x`
as before."""

from __future__ import annotations

import mmap

import pytest

from harness.errors import QMPError
from harness.machine.guest_clock import GuestClock, guest_physical
from harness.machine.guest_ram import GuestRam

TICKS_VA = 0xFFFFFFFF80121028
RAM = 2 << 20


class FakeQmp:
    """QEMU's monitor: gva2gpa answers GPA (a str, or None: unmapped), x
    answers X_WORD, query-replay an instruction count; COMMANDS is what
    was asked."""

    def __init__(self, gpa=None, x_word=7):
        self.gpa, self.x_word, self.commands = gpa, x_word, []

    def human_monitor_command(self, line: str) -> str:
        self.commands.append(line.split()[0])
        if line.startswith("gva2gpa"):
            return f"gpa: {self.gpa}\r\n" if self.gpa else "Unmapped\r\n"
        if line.startswith("x "):
            return f"ffffffff80121028: 0x{self.x_word:016x}\r\n" if self.x_word is not None \
                else "Cannot access memory\r\n"
        raise AssertionError(line)

    def execute(self, command: str, arguments=None, timeout=None):
        assert command == "query-replay"
        return {"icount": 1234}


@pytest.fixture
def ram():
    mapping = mmap.mmap(-1, RAM)
    yield mapping, GuestRam(mapping, RAM)


def test_ticks_come_from_the_mapped_ram_once_gva2gpa_places_them(ram):
    mapping, guest_ram = ram
    mapping[0x121028:0x121030] = (4242).to_bytes(8, "little")
    qmp = FakeQmp(gpa="0x121028")
    clock = GuestClock(qmp, TICKS_VA, guest_ram)
    assert clock.sample().ticks == 4242 and clock.tick_phys == 0x121028
    mapping[0x121028:0x121030] = (4243).to_bytes(8, "little")
    sample = clock.sample()
    assert (sample.ticks, sample.icount) == (4243, 1234)
    assert qmp.commands == ["gva2gpa"]          # translated once, never read with x


def test_before_paging_the_answer_past_ram_is_not_kept(ram):
    _, guest_ram = ram
    qmp = FakeQmp(gpa="0xfffff80121028", x_word=None)     # QEMU's answer at reset
    clock = GuestClock(qmp, TICKS_VA, guest_ram)
    assert clock.sample().ticks is None and clock.tick_phys is None
    assert qmp.commands == ["gva2gpa", "x"]
    qmp.gpa = "0x121028"
    clock.sample()
    assert clock.tick_phys == 0x121028


def test_an_unmapped_address_has_no_ticks_yet(ram):
    _, guest_ram = ram
    qmp = FakeQmp(gpa=None)
    assert GuestClock(qmp, TICKS_VA, guest_ram).sample().ticks is None
    assert qmp.commands == ["gva2gpa"]


def test_without_a_mapping_ticks_are_read_with_x():
    qmp = FakeQmp(gpa="0x121028", x_word=99)
    assert GuestClock(qmp, TICKS_VA).sample().ticks == 99
    assert qmp.commands == ["x"]


def test_a_closed_mapping_is_the_end_of_the_run(ram):
    mapping, guest_ram = ram
    clock = GuestClock(FakeQmp(gpa="0x121028"), TICKS_VA, guest_ram)
    clock.sample()
    guest_ram.close()
    with pytest.raises(QMPError):
        clock.sample()


def test_guest_physical_reads_qemus_answer():
    assert guest_physical(FakeQmp(gpa="0x1f000").human_monitor_command, TICKS_VA) == 0x1F000
    assert guest_physical(FakeQmp(gpa=None).human_monitor_command, TICKS_VA) is None


class RacingRam(GuestRam):
    """A mapping whose word changes between any two reads (a kernel that
    rewrites its counter without pause)."""

    def running_u64(self, address: int, tries: int = 64):
        return super().running_u64(address, tries) if address != 0x121028 else None


def test_a_word_that_never_reads_the_same_twice_is_read_with_x(ram):
    mapping, _ = ram
    qmp = FakeQmp(gpa="0x121028", x_word=31)
    clock = GuestClock(qmp, TICKS_VA, RacingRam(mapping, RAM))
    assert clock.sample().ticks == 31 and qmp.commands == ["gva2gpa", "x"]


def test_running_u64_gives_up_on_a_word_that_keeps_changing(ram):
    mapping, guest_ram = ram

    class Flipping:                    # each read of the word sees a new value
        count = 0

        def __getitem__(self, key):
            return self

        def __bytes__(self):
            Flipping.count += 1
            return Flipping.count.to_bytes(8, "little")

    guest_ram._view = Flipping()
    assert guest_ram.running_u64(0x100, tries=5) is None and Flipping.count == 10
    mapping[0x100:0x108] = (77).to_bytes(8, "little")
    assert GuestRam(mapping, RAM).running_u64(0x100) == 77
