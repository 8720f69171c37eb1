"""The checkpoint session's diagnosis of a code page with the wrong
contents (harness/run/checkpoints.py): a stop at an address where one of the
scenario's programs has checkpoint() or fail() is a wrong page only if no
program of the scenario has those bytes there."""

from types import SimpleNamespace

from harness.run.checkpoints import CheckpointSession

CHECKPOINT = bytes.fromhex("90c3662e0f1f840000000000662e0f1f")  # nop; ret; padding


class FakeImage:
    """A program whose loaded image is BYTES at BASE."""

    def __init__(self, base: int, data: bytes):
        self.base, self.data = base, data

    def elf_bytes(self, va: int, length: int):
        if not (self.base <= va and va + length <= self.base + len(self.data)):
            return None
        return self.data[va - self.base:va - self.base + length]


def session(images: dict) -> CheckpointSession:
    sc = SimpleNamespace(checkpoints=[], program="parent")
    s = CheckpointSession(adapter=None, scenario=sc, images=images, data_files={},
                          timeouts=None)
    s.inspector = SimpleNamespace(current_thread_name=lambda: "fork-kid")
    return s


def test_blank_page_at_a_checkpoint_is_named_once():
    s = session({"parent": FakeImage(0x405000, CHECKPOINT)})
    owners = {0x405000: [("parent", CHECKPOINT)]}
    s._note_wrong_code(0x405000, bytes(16), owners)
    s._note_wrong_code(0x405000, bytes(16), owners)
    assert len(s.wrong_code) == 1
    found = s.wrong_code[0]
    assert (found.oracle, found.va) == ("code_page_contents", 0x405000)
    assert found.message.startswith("fork-kid ran the code at 0x405000, where parent has "
                                    "checkpoint(), but its code page there holds other bytes")
    assert found.actual == "00 " * 15 + "00" and found.expected.startswith("90 c3 66 2e")


def test_another_programs_code_at_that_address_is_not_wrong():
    """The parent's ordinary code sits where the exec'd child has fail()."""
    other = bytes.fromhex("beff030000" "4889ea" "0f1f440000" "c3c3c3")
    s = session({"child": FakeImage(0x401520, CHECKPOINT),
                 "parent": FakeImage(0x401000, bytes(0x520) + other)})
    s.fail_owners = {0x401520: [("child", CHECKPOINT)]}
    s._note_wrong_code(0x401520, other, {})
    assert s.wrong_code == []


def test_code_at_the_end_of_a_segment_is_compared_as_far_as_it_goes():
    tail = bytes.fromhex("0f05ebfe")
    s = session({"child": FakeImage(0x401520, CHECKPOINT),
                 "parent": FakeImage(0x401510, bytes(16) + tail)})
    s.fail_owners = {0x401520: [("child", CHECKPOINT)]}
    s._note_wrong_code(0x401520, tail + bytes(12), {})
    assert s.wrong_code == []
    s._note_wrong_code(0x401520, bytes(16), {})
    assert "where child has fail()" in s.wrong_code[0].message
