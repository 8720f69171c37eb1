"""Fault decoder: instruction accesses, error-code cross-check, listings.

Instruction bytes were assembled with GNU as (`as --64`, Intel syntax); each
is followed by the instruction it encodes.
"""
import pytest

from harness.x86.disasm import disassemble_around
from harness.x86.fault_decode import (READ, READ_WRITE, WRITE,
                                  InstructionDecodeError, MemoryAccess,
                                  PageFaultErrorCode, analyze_page_fault,
                                  decode_instruction)

MOV_LOAD = bytes.fromhex("488b448b08")     # mov rax, qword ptr [rbx + rcx*4 + 8]
MOV_STORE = bytes.fromhex("488918")        # mov qword ptr [rax], rbx
ADD_RMW = bytes.fromhex("48830001")        # add qword ptr [rax], 1
PUSH_RAX = bytes.fromhex("50")             # push rax
CALL_RAX = bytes.fromhex("ffd0")           # call rax
REP_STOSB = bytes.fromhex("f3aa")          # rep stosb byte ptr [rdi], al
RIP_LOAD = bytes.fromhex("488b0510000000")  # mov rax, qword ptr [rip + 0x10]
FS_LOAD = bytes.fromhex("64488b042528000000")  # mov rax, qword ptr fs:[0x28]
ADDR32_LOAD = bytes.fromhex("678b03")      # mov eax, dword ptr [ebx]
XCHG = bytes.fromhex("488718")             # xchg qword ptr [rax], rbx
CMPXCHG = bytes.fromhex("480fb118")        # cmpxchg qword ptr [rax], rbx
POP_RBX = bytes.fromhex("5b")              # pop rbx
RET = bytes.fromhex("c3")                  # ret
MOVSQ = bytes.fromhex("48a5")              # movsq qword ptr [rdi], qword ptr [rsi]
PUSH_MEM = bytes.fromhex("ff30")           # push qword ptr [rax]
LEA = bytes.fromhex("488d4308")            # lea rax, [rbx + 8]
INC_MEM = bytes.fromhex("ff00")            # inc dword ptr [rax]
CMPXCHG16B = bytes.fromhex("480fc708")     # cmpxchg16b xmmword ptr [rax]
ADDR32_DISP = bytes.fromhex("678b4320")    # mov eax, dword ptr [ebx + 0x20]
REP_INSW = bytes.fromhex("f3666d")         # rep insw word ptr [rdi], dx (Pintos's disk driver)
REP_OUTSW = bytes.fromhex("f3666f")        # rep outsw dx, word ptr [rsi]
SUPERVISOR_WRITE_NP = 0x2

USER_CS = 0x2B
READ_NP, WRITE_NP, WRITE_PROT, FETCH_NP = 0x4, 0x6, 0x7, 0x14  # user mode
RIP = 0x401000


def regs(**values):
    base = {"rip": RIP, "rsp": 0x47480000, "cs": USER_CS, "eflags": 0x202}
    base.update(values)
    return base


def kind_address_size(access):
    return access.kind, access.address, access.size


def only_access(code, **reg_values):
    insn = decode_instruction(code, RIP, regs(**reg_values))
    assert len(insn.accesses) == 1, insn.accesses
    return insn.accesses[0]


def test_mov_load_reads_base_index_scale_disp():
    insn = decode_instruction(MOV_LOAD, RIP, regs(rbx=0x600000, rcx=2))
    assert insn.text == "mov rax, qword ptr [rbx + rcx*4 + 8]" and insn.size == 5
    assert insn.accesses == (MemoryAccess(
        READ, 0x600010, 8, 1, "operand", "qword ptr [rbx + rcx*4 + 8]"),)
    assert not insn.writes


def test_store_rmw_and_atomic_kinds():
    assert kind_address_size(only_access(MOV_STORE, rax=0x601008)) == (
        WRITE, 0x601008, 8)
    assert only_access(ADD_RMW, rax=0x601008).kind == READ_WRITE
    assert kind_address_size(only_access(INC_MEM, rax=0x601008)) == (
        READ_WRITE, 0x601008, 4)
    assert only_access(XCHG, rax=0x601000).kind == READ_WRITE
    assert only_access(CMPXCHG, rax=0x601000).kind == READ_WRITE
    assert kind_address_size(only_access(CMPXCHG16B, rax=0x601000)) == (
        READ_WRITE, 0x601000, 16)
    assert decode_instruction(LEA, RIP, regs(rbx=8)).accesses == ()


def test_stack_accesses():
    sp = 0x47480000
    assert only_access(PUSH_RAX) == MemoryAccess(
        WRITE, sp - 8, 8, None, "stack", "qword ptr [rsp - 8]")
    assert kind_address_size(only_access(CALL_RAX, rax=0x402000)) == (
        WRITE, sp - 8, 8)
    assert kind_address_size(only_access(POP_RBX)) == (READ, sp, 8)
    assert kind_address_size(only_access(RET)) == (READ, sp, 8)
    both = decode_instruction(PUSH_MEM, RIP, regs(rax=0x603000)).accesses
    assert [(a.kind, a.address, a.role) for a in both] == [
        (READ, 0x603000, "operand"), (WRITE, sp - 8, "stack")]


def test_string_operations():
    stos = only_access(REP_STOSB, rdi=0x700FF0, rcx=0x20)
    assert (stos.kind, stos.address, stos.size, stos.role) == (
        WRITE, 0x700FF0, 1, "string destination")
    assert stos.extent == (0x700FF0, 0x701010)
    backwards = only_access(REP_STOSB, rdi=0x700FF0, rcx=0x20, eflags=0x602)
    assert backwards.extent == (0x700FD1, 0x700FF1)
    movs = decode_instruction(MOVSQ, RIP, regs(rdi=0x9000, rsi=0x8000)).accesses
    assert [(a.kind, a.address, a.role, a.extent) for a in movs] == [
        (WRITE, 0x9000, "string destination", None),
        (READ, 0x8000, "string source", None)]


def test_rip_relative_fs_and_32_bit_addresses():
    assert only_access(RIP_LOAD).address == RIP + 7 + 0x10
    assert only_access(FS_LOAD, fs_base=0x7000).address == 0x7028
    unknown = only_access(FS_LOAD)
    assert (unknown.address, unknown.note) == (None, "fs_base not given")
    assert only_access(MOV_LOAD, rcx=1).note == "register rbx not given"
    assert only_access(ADDR32_LOAD, rbx=0x100000040).address == 0x40
    assert only_access(ADDR32_DISP, rbx=0xFFFFFFF0).address == 0x10  # wraps


def test_undecodable_bytes_raise():
    with pytest.raises(InstructionDecodeError, match="no valid instruction at "
                       "0x401000 in bytes 06"):
        decode_instruction(b"\x06", RIP)          # push es: invalid in 64-bit


def test_error_code_decoding():
    assert PageFaultErrorCode(0x6).describe() == \
        "page not present, write, user mode"
    assert PageFaultErrorCode(0x19).describe() == ("protection violation, "
        "instruction fetch, supervisor mode, reserved bit set in a paging entry")


def test_load_fault_consistent():
    result = analyze_page_fault(0x600010, READ_NP, regs(rbx=0x600000, rcx=2),
                                MOV_LOAD)
    assert (result.consistent, result.cr2_in_access) == (True, True)
    assert result.access.operand == 1 and result.problems == ()
    assert result.explanation().splitlines()[:2] == [
        "page fault at rip 0x401000 `mov rax, qword ptr [rbx + rcx*4 + 8]`: "
        "cr2 0x600010, error 0x4 (page not present, read, user mode)",
        "consistent"]


def test_store_fault_consistent_and_read_code_inconsistent():
    good = analyze_page_fault(0x601008, WRITE_PROT, regs(rax=0x601008), MOV_STORE)
    assert good.consistent and good.cr2_in_access
    bad = analyze_page_fault(0x601008, READ_NP, regs(rax=0x601008), MOV_STORE)
    assert not bad.consistent
    assert bad.problems == ("error code says read, but `mov qword ptr [rax], "
                            "rbx` only writes memory",)


def test_write_error_code_on_a_load_is_inconsistent():
    result = analyze_page_fault(0x600010, WRITE_NP, regs(rbx=0x600000, rcx=2),
                                MOV_LOAD)
    assert not result.consistent and result.cr2_in_access is None
    assert result.problems == ("error code says write, but `mov rax, qword ptr "
                               "[rbx + rcx*4 + 8]` only reads memory",)
    assert "in the read of qword ptr [rbx + rcx*4 + 8]" in result.notes[0]


def test_rmw_accepts_read_and_write_codes():
    as_write = analyze_page_fault(0x601000, WRITE_NP, regs(rax=0x601000), ADD_RMW)
    assert as_write.consistent and as_write.access.kind == READ_WRITE
    as_read = analyze_page_fault(0x601000, READ_NP, regs(rax=0x601000), ADD_RMW)
    assert as_read.consistent
    assert any("read-modify-write reported as a read" in n for n in as_read.notes)


def test_push_and_call_fault_below_stack_pointer():
    push = analyze_page_fault(0x4747FFF8, WRITE_NP, regs(), PUSH_RAX)
    assert push.consistent and push.access.role == "stack"
    call = analyze_page_fault(0x4747FFFC, WRITE_NP, regs(rax=0x402000), CALL_RAX)
    assert call.consistent and call.cr2_in_access


def test_rep_stosb_fault_in_later_iteration():
    result = analyze_page_fault(0x701000, WRITE_NP,
                                regs(rdi=0x700FF0, rcx=0x20), REP_STOSB)
    assert result.consistent and result.cr2_in_access
    assert result.notes[1] == ("cr2 is in a later iteration of the repeated "
                               "string operation than rsi/rdi point to")


def test_port_string_input_writes_memory_and_output_reads_it():
    """Capstone 4 gives the memory operand of ins/outs no access type; ins
    writes [rdi], outs reads [rsi]. A kernel-mode fault of `rep insw` into a
    user buffer (seen: a Pintos-KAIST disk read into an unloaded page) is a
    write that fits the instruction."""
    ins = only_access(REP_INSW, rdi=0x404200, rcx=0x100)
    assert (ins.kind, ins.role, ins.size, ins.extent) == (
        WRITE, "string destination", 2, (0x404200, 0x404400))
    assert only_access(REP_OUTSW, rsi=0x404200, rcx=1).kind == READ
    fault = analyze_page_fault(0x404200, SUPERVISOR_WRITE_NP,
                               regs(rdi=0x404200, rcx=0x100, cs=0x8), REP_INSW)
    assert fault.consistent and fault.access is not None and fault.access.writes


def test_rip_relative_load_fault():
    result = analyze_page_fault(0x401017, READ_NP, regs(), RIP_LOAD)
    assert result.consistent and result.access.address == 0x401017


def test_cr2_outside_the_access_is_noted():
    result = analyze_page_fault(0x900000, READ_NP, regs(rbx=0x600000, rcx=2),
                                MOV_LOAD)
    assert result.consistent and result.cr2_in_access is False
    assert result.notes == ("cr2 0x900000 is outside every read access: read "
                            "of qword ptr [rbx + rcx*4 + 8] (operand) at "
                            "[0x600010, 0x600018)",)


def test_instruction_fetch_faults():
    jumped = analyze_page_fault(0x500000, FETCH_NP, regs(rip=0x500000), b"")
    assert jumped.consistent and jumped.instruction is None
    elsewhere = analyze_page_fault(0x600000, FETCH_NP, regs(rip=0x500000), b"")
    assert not elsewhere.consistent and elsewhere.cr2_in_access is False
    straddle = analyze_page_fault(0x401000, FETCH_NP, regs(rip=0x400FFE),
                                  RIP_LOAD[:2])
    assert straddle.consistent and "straddles a page boundary" in straddle.notes[0]
    no_nx = analyze_page_fault(0x500000, READ_NP, regs(rip=0x500000),
                               bytes.fromhex("4889c3"), nx_enabled=False)
    assert no_nx.consistent and no_nx.cr2_in_access   # mov rbx, rax
    with_nx = analyze_page_fault(0x500000, READ_NP, regs(rip=0x500000),
                                 bytes.fromhex("4889c3"))
    assert not with_nx.consistent


def test_privilege_mismatch_and_window_before_rip():
    kernel_mode = analyze_page_fault(0x600010, READ_NP & ~4,
                                     regs(rbx=0x600000, rcx=2), MOV_LOAD)
    assert kernel_mode.problems == ("error code says supervisor-mode access, "
                                    "but cs 0x2b is at CPL 3",)
    window = bytes.fromhex("90c3") + MOV_LOAD        # nop; ret; then rip
    shifted = analyze_page_fault(0x600010, READ_NP, regs(rbx=0x600000, rcx=2),
                                 window, code_address=RIP - 2)
    assert shifted.consistent and shifted.instruction.address == RIP


# A compiled-style function at 0x401000 (GNU as):
#   401000 push rbp; 401001 mov rbp, rsp; 401004 push rbx; 401005 sub rsp, 0x18
#   401009 mov [rbp-0x18], rdi; 40100d mov eax, [rip+0x2f00]
#   401013 lea rcx, [rax+rax*2]; 401017 mov rdx, [rbp-0x18]; 40101b add rdx, rcx
#   40101e mov [rdx], rbx; 401021 inc dword [rdx+8]; 401024 add rsp, 0x18
#   401028 pop rbx; 401029 pop rbp; 40102a ret
FUNCTION = bytes.fromhex("554889e5534883ec1848897de88b05002f0000488d0c40488b55e8"
                         "4801ca48891aff42084883c4185b5dc3")


# Windows starting anywhere from the function entry to 2 bytes before the
# first listed instruction (closer than that, a misaligned start is as
# plausible as the right one).
@pytest.mark.parametrize("skip", range(0, 18))
def test_listing_before_rip_from_any_window_start(skip):
    lines = disassemble_around(FUNCTION[skip:], 0x401000 + skip, 0x40101E,
                               before=3, after=2)
    assert [(ln.address, ln.text, ln.at_rip) for ln in lines] == [
        (0x401013, "lea rcx, [rax + rax*2]", False),
        (0x401017, "mov rdx, qword ptr [rbp - 0x18]", False),
        (0x40101B, "add rdx, rcx", False),
        (0x40101E, "mov qword ptr [rdx], rbx", True),
        (0x401021, "inc dword ptr [rdx + 8]", False),
        (0x401024, "add rsp, 0x18", False)]


def test_listing_votes_past_a_misleading_first_byte():
    # 0x40100d holds a stray e8 (call rel32): decoding from it swallows the
    # lea and lands on rip via "or al, ..."; most other starts agree on lea.
    lines = disassemble_around(b"\xe8" + FUNCTION[14:], 0x40100D, 0x40101E,
                               before=3, after=0)
    assert [ln.address for ln in lines] == [0x401013, 0x401017, 0x40101B,
                                            0x40101E]


def test_listing_format_and_bad_bytes():
    lines = disassemble_around(FUNCTION[-3:] + b"\x06\x06" * 8, 0x401028,
                               0x401029, before=1, after=3)
    assert [(ln.address, ln.raw.hex(), ln.text, ln.at_rip) for ln in lines] == [
        (0x401028, "5b", "pop rbx", False), (0x401029, "5d", "pop rbp", True),
        (0x40102A, "c3", "ret", False), (0x40102B, "06", "(bad)", False)]
    with pytest.raises(ValueError, match="rip 0x500000 is outside"):
        disassemble_around(FUNCTION, 0x401000, 0x500000)

