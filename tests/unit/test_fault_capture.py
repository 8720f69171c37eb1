"""A panic's stack through trap frames (harness/run/kernel_stack.py walk_stack,
harness/run/fault_explain.py kernel_frames and panic_story), on the reference
kernel's real code and DWARF with a crafted stack: debug_panic called from
the page-fault handler, which interrupted sys_read in kernel mode, which ran
for a `syscall` from user mode. Also the bound on records and the source
lines of code addresses (harness/debug/source_lines.py)."""

from __future__ import annotations

import re

import pytest

from harness.debug.debugger import DebuggerError
from harness.run import fault_capture
from harness.run.fault_capture import FaultCapture
from harness.run.kernel_stack import TrapFrame, walk_stack
from harness.run.fault_explain import kernel_frames, panic_story
from results.model import FaultRecord, ScenarioResult, TrapFrameRef, Verdict
from harness.debug.source_lines import source_lines
from harness.debug.symbols import SymbolTable
from harness.debug.typed_memory import read_struct

STACK = 0xFFFF800000100000      # rsp at the stop
R0, R1, R2, R3 = (STACK + off for off in (0x40, 0x80, 0x200, 0x240))   # frame pointers
USER_RBP = 0x47470000


class FakeDebugger:
    """What the walk reads: words of a crafted stack, structs by DWARF."""

    def __init__(self, symbols):
        self.symbols = symbols
        self.memory: dict = {}

    def write(self, address: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            self.memory[address + i] = byte

    def put_u64(self, address: int, value: int) -> None:
        self.write(address, value.to_bytes(8, "little"))

    def read_virt(self, address: int, size: int) -> bytes:
        try:
            return bytes(self.memory[address + i] for i in range(size))
        except KeyError:
            raise DebuggerError(f"unmapped {address:#x}") from None

    def read_u64(self, address: int) -> int:
        return int.from_bytes(self.read_virt(address, 8), "little")

    def read_struct(self, address: int, name: str):
        return read_struct(self.read_virt, address, self.symbols.types.get(name))

    def put_trap_frame(self, address: int, **fields) -> None:
        t = self.symbols.types.get("struct intr_frame")
        self.write(address, bytes(t.size))
        for name, value in fields.items():
            member = t.member(name if name in ("vec_no", "error_code", "rip", "cs", "rflags",
                                               "rsp", "ss") else f"R.{name}")
            self.write(address + member.offset, value.to_bytes(member.type.resolved().size,
                                                               "little"))


@pytest.fixture(scope="module")
def symbols(built):
    table = SymbolTable(built / "kernel" / "kernel.elf")
    yield table
    table.close()


def return_into(symbols, function: str) -> int:
    """The address after the first call instruction inside FUNCTION."""
    from harness.x86.disasm import x86_64_decoder
    sym = symbols.lookup(function)
    code = symbols.code(sym.address, sym.size or 128)
    for address, size, mnemonic, _ in x86_64_decoder().disasm_lite(code, sym.address):
        if mnemonic == "call":
            return address + size
    raise AssertionError(f"no call in {function}")


def crafted_panic(symbols) -> tuple:
    """A debugger stopped at debug_panic's entry with the stack above; the
    interrupted instruction's address in sys_read."""
    dbg = FakeDebugger(symbols)
    faulting = symbols.address_of("sys_read") + 0x10
    dbg.put_u64(STACK, return_into(symbols, "kernel_exception"))  # [rsp] at the entry
    dbg.put_u64(R0, R1)
    dbg.put_u64(R0 + 8, return_into(symbols, "page_fault"))
    dbg.put_u64(R1, R2)
    dbg.put_u64(R1 + 8, symbols.address_of("intr_exit"))           # after `call intr_handler`
    dbg.put_trap_frame(R1 + 16, vec_no=14, error_code=0x2, rip=faulting, cs=0x8,
                       rbp=R2, rsp=R2 - 0x20)
    dbg.put_u64(R2, R3)
    dbg.put_u64(R2 + 8, return_into(symbols, "syscall_handler"))
    dbg.put_u64(R3, USER_RBP)
    dbg.put_u64(R3 + 8, return_into(symbols, "syscall_entry"))
    dbg.put_trap_frame(R3 + 16, vec_no=0x100, rax=9, rip=0x401000, cs=0x23)
    return dbg, faulting


def test_the_walk_finds_the_trap_frames_above_the_entry_returns(symbols):
    dbg, _ = crafted_panic(symbols)
    chain = walk_stack(dbg, symbols.address_of("debug_panic"), R0, STACK)
    entries = [(entry, trap) for _, trap, entry in chain]
    assert entries == [(None, None), (None, None), (None, None), ("intr_entry", R1 + 16),
                       ("interrupted", None), (None, None), ("syscall_entry", R3 + 16)]


def test_code_interrupted_before_its_frame_was_set_up_still_names_its_caller(symbols):
    """A leaf interrupted at its first instruction (its caller's return
    address only at [rsp]): the walk restarts at the interrupted code."""
    dbg, _ = crafted_panic(symbols)
    leaf = symbols.address_of("file_length")
    dbg.put_trap_frame(R1 + 16, vec_no=14, error_code=0x0, rip=leaf, cs=0x8,
                       rbp=R2, rsp=R2 - 0x20)
    dbg.put_u64(R2 - 0x20, return_into(symbols, "vm_mmap"))
    frames = kernel_frames(dbg, walk_stack(dbg, symbols.address_of("debug_panic"), R0, STACK))
    assert [f.function.split("+")[0] for f in frames][3:] == [
        "intr_entry", "file_length", "vm_mmap", "syscall_handler", "syscall_entry"]
    assert frames[4].interrupted and frames[3].trap.vector == 14


def test_a_word_that_is_no_return_address_ends_the_walk_before_the_trap(symbols):
    dbg, _ = crafted_panic(symbols)
    dbg.put_u64(R1 + 8, symbols.address_of("debug_panic") + 1)   # no call ends there
    chain = walk_stack(dbg, symbols.address_of("debug_panic"), R0, STACK)
    assert len(chain) == 3 and all(trap is None for _, trap, _ in chain)


def test_the_frames_name_the_interrupted_code_and_the_system_call(symbols):
    dbg, faulting = crafted_panic(symbols)
    frames = kernel_frames(dbg, walk_stack(dbg, symbols.address_of("debug_panic"), R0, STACK))
    assert [f.function.split("+")[0] for f in frames] == [
        "debug_panic", "kernel_exception", "page_fault", "intr_entry", "sys_read",
        "syscall_handler", "syscall_entry"]
    assert frames[3].trap == TrapFrameRef(R1 + 16, 14, faulting, False)
    assert frames[4].interrupted and frames[4].address == faulting
    assert [f.interrupted for f in frames].count(True) == 1
    assert frames[6].syscall == "read"
    assert all(re.fullmatch(r"[\w/.]+\.[cS]:\d+", f.source) for f in frames), frames
    assert frames[0].source.startswith("kernel/debug.c:")
    assert frames[4].source.startswith("kernel/syscall_file.c:")


def test_the_story_splits_the_stack_at_the_fault(symbols):
    dbg, faulting = crafted_panic(symbols)
    frames = kernel_frames(dbg, walk_stack(dbg, symbols.address_of("debug_panic"), R0, STACK))
    frames[3].fault = 0
    record = FaultRecord(process="reader", reason="page fault (page not present, write, "
                         "supervisor mode) at 0x10000000", rip=faulting, mode="kernel",
                         function="sys_read+0x10 (kernel)", source="kernel/syscall_file.c:90",
                         instruction="mov byte ptr [rdi], al")
    story = panic_story(frames, [record])
    parts = story.split(" → ")
    assert parts[0].startswith("while running read() in reader (syscall_handler")
    assert parts[1] == ("page fault (page not present, write, supervisor mode) at 0x10000000 "
                        "in kernel mode at sys_read+0x10 (kernel) (kernel/syscall_file.c:90) "
                        "`mov byte ptr [rdi], al`")
    assert parts[2].startswith("the handler then: page_fault+")   # entered from intr_entry
    assert parts[-1].startswith("debug_panic (kernel/debug.c:")


def test_a_stack_without_a_fault_is_no_story(symbols):
    dbg, _ = crafted_panic(symbols)
    frames = kernel_frames(dbg, walk_stack(dbg, symbols.address_of("debug_panic"), R0, STACK))
    assert panic_story(frames, []) == ""


def test_records_are_bounded_and_each_fault_is_recorded_once(monkeypatch):
    monkeypatch.setattr(fault_capture, "explain_fault",
                        lambda dbg, frame, cr2, outcome, process, images: FaultRecord(
                            process, outcome, frame.regs["rip"], frame_address=frame.address))

    class Inspector:
        def current_thread_name(self):
            return "p"

    capture = FaultCapture(adapter=None, images={}, limit=3)
    # the same fault met twice in a row (its kill, then a panic) is one record;
    # the same frame and rip again later is another fault (a forked sibling's)
    for address in (0x1000, 0x1000, 0x2000, 0x1000, 0x3000, 0x4000):
        frame = TrapFrame(address, {"rip": 0x400000, "cs": 0x23}, vector=0, error_code=0)
        capture._record(None, Inspector(), frame, None, "killed")
    assert [r.frame_address for r in capture.records] == [0x1000, 0x2000, 0x1000]
    assert capture.beyond == 2


def test_source_lines_of_kernel_and_program_code(symbols, built):
    lines = source_lines(built / "kernel" / "kernel.elf")
    found = lines.lookup(symbols.address_of("page_fault"))
    assert found.file == "arch/x86_64/exception.c"
    source = (built.parent / "reference_kernel" / found.file).read_text().splitlines()
    assert "page_fault(" in source[found.line - 1], source[found.line - 1]
    assert lines.lookup(0x1000) is None                 # no line program covers it
    from harness.debug.program_image import load_program
    image = load_program(built / "programs" / "fault-pf")
    line = source_lines(image.path).lookup(image.symbols["main"])
    assert line.file.endswith("fault-pf.c") and "main" in (
        built.parent / "scenarios" / line.file).read_text().splitlines()[line.line - 1]
    assert source_lines(built / "no-such.elf").empty


def test_a_panic_stop_is_a_panic_only_with_debug_panic_on_the_stack(symbols):
    """The PANIC stop sits on the panic's way (a hook it calls, or the
    power-off): the stack from debug_panic's frame on is the panic's; a
    power-off without it on the stack is the end of a good run."""
    dbg, _ = crafted_panic(symbols)
    hook = symbols.address_of("vmcheck_hook_panic")
    dbg.put_u64(STACK, return_into(symbols, "debug_panic"))      # [rsp] at the hook's entry
    frames = FaultCapture._panic_frames(dbg, hook, R0, STACK)
    assert symbols.caller_of(frames[0][0]) == "debug_panic"
    assert [entry for _, _, entry in frames].count("intr_entry") == 1
    dbg.put_u64(STACK, return_into(symbols, "kernel_exception"))
    assert FaultCapture._panic_frames(dbg, hook, R0, STACK) == []


USER_SP = 0x4747F500            # rsp at the stop: kernel code on the user's stack
U0, U1 = USER_SP + 0x40, USER_SP + 0x80


def crafted_user_stack_panic(symbols, interrupted: int) -> FakeDebugger:
    """A debugger stopped at debug_panic's entry in an interrupt handler
    that interrupted kernel code at INTERRUPTED whose rsp was a user
    address (the system-call return's `popq %rsp`; `sysretq` window): the
    whole chain, trap frame included, lies on the user's stack."""
    dbg = FakeDebugger(symbols)
    dbg.put_u64(USER_SP, return_into(symbols, "kernel_exception"))
    dbg.put_u64(U0, U1)
    dbg.put_u64(U0 + 8, return_into(symbols, "page_fault"))
    dbg.put_u64(U1, 0)
    dbg.put_u64(U1 + 8, symbols.address_of("intr_exit"))
    dbg.put_trap_frame(U1 + 16, vec_no=0x20, rip=interrupted, cs=0x8, rbp=0, rsp=U1 + 0x200)
    return dbg


def test_kernel_code_on_the_user_stack_is_walked_through_its_trap_frame(symbols):
    """Without walking frame pointers at user addresses when the stack is
    itself one, the walk ended at the first frame ('a user address')."""
    sysret = symbols.address_of("syscall_entry") + 0x40
    dbg = crafted_user_stack_panic(symbols, sysret)
    chain = walk_stack(dbg, symbols.address_of("debug_panic"), U0, USER_SP)
    assert [(entry, trap) for _, trap, entry in chain][3:] == [
        ("intr_entry", U1 + 16), ("interrupted", None)]
    assert chain[4][0] == sysret


def test_a_panic_on_the_user_stack_in_the_syscall_return_is_the_skeletons_race(symbols):
    from harness.run.entry_race import interrupt_on_user_stack, rerun_note
    sysret = symbols.address_of("syscall_entry") + 0x40
    dbg = crafted_user_stack_panic(symbols, sysret)
    frames = kernel_frames(dbg, walk_stack(dbg, symbols.address_of("debug_panic"), U0, USER_SP))
    why = interrupt_on_user_stack(frames, symbols)
    assert why is not None and "vector 0x20" in why and f"{U1 + 16:#x}" in why
    result = ScenarioResult(name="page-merge-seq", area="swap", verdict=Verdict.KERNEL_PANIC, duration_s=1.0,
                            panic_stack=frames, artifacts="/tmp/first")
    note = rerun_note(result, True, symbols)
    assert note.startswith("run again without -icount") and "/tmp/first" in note
    assert rerun_note(result, False, symbols) is None            # not under -icount
    result.verdict = Verdict.FAIL
    assert rerun_note(result, True, symbols) is None
    # the same stack, interrupted elsewhere; a panic on the kernel's own stack
    other = crafted_user_stack_panic(symbols, symbols.address_of("sys_read") + 0x10)
    assert interrupt_on_user_stack(kernel_frames(other, walk_stack(
        other, symbols.address_of("debug_panic"), U0, USER_SP)), symbols) is None
    usual, _ = crafted_panic(symbols)
    assert interrupt_on_user_stack(kernel_frames(usual, walk_stack(
        usual, symbols.address_of("debug_panic"), R0, STACK)), symbols) is None
