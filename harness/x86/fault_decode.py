"""Decode the instruction behind a page fault and check it against the fault.

`decode_instruction(code, rip, regs)` decodes one x86-64 instruction with
Capstone and lists its memory accesses (explicit operands, the stack for
push/pop/call/ret, rsi/rdi for string operations) with their effective
addresses when the registers allow. `analyze_page_fault(cr2, error_code,
regs, code)` cross-checks the error code and CR2 against those accesses.
harness/x86/disasm.py lists the instructions around RIP for reports.

Registers are a dict of GDB names: rax..r15, rip, eflags, cs, fs_base,
gs_base; missing ones only make an address unknown.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping, Optional

from harness.x86.capstone_loader import capstone
from harness.x86.disasm import MAX_INSN_BYTES, x86_64_decoder as _capstone
from oracles.model.page_fault import PageFaultErrorCode
from oracles.model.page_tables import PAGE_4K

x86 = capstone.x86

READ, WRITE, READ_WRITE = "read", "write", "read-write"
_MASK64 = (1 << 64) - 1
_DF = 1 << 10  # EFLAGS direction flag
_SIZE_WORDS = {1: "byte", 2: "word", 4: "dword", 8: "qword", 10: "tbyte",
               16: "xmmword", 32: "ymmword", 64: "zmmword"}
# Memory operands that are only address arithmetic or hints: no access.
_NO_ACCESS = {"lea", "nop", "prefetch", "prefetchw", "prefetchwt1",
              "prefetcht0", "prefetcht1", "prefetcht2", "prefetchnta",
              "invlpg", "bndcl", "bndcu", "bndcn", "bndmk"}
# A memory destination (operand 0) of these is read, then written
# (Capstone 4 marks cmpxchg* as read-only; the CPU always writes it back).
_READ_MODIFY_WRITE = {"add", "adc", "sub", "sbb", "and", "or", "xor", "inc",
                      "dec", "not", "neg", "shl", "shr", "sal", "sar", "rol",
                      "ror", "rcl", "rcr", "shld", "shrd", "bts", "btr",
                      "btc", "xchg", "xadd", "cmpxchg", "cmpxchg8b",
                      "cmpxchg16b"}
_SIZE_OVERRIDE = {"fxsave": 512, "fxsave64": 512, "fxrstor": 512,
                  "fxrstor64": 512, "xsave": None, "xsave64": None,
                  "xsaveopt": None, "xsavec": None, "xsaves": None,
                  "xrstor": None, "xrstor64": None, "xrstors": None}
_STRING_OPS = {f"{op}{w}" for op in ("movs", "stos", "lods", "cmps", "scas",
                                     "ins", "outs") for w in "bwdq"}
# Implicit stack accesses: name -> (kind, size or None for the operand size,
# base register, offset from it; None = minus the size).
_STACK = {"push": (WRITE, None, "rsp", None), "pushfq": (WRITE, 8, "rsp", None),
          "pushf": (WRITE, 2, "rsp", None), "call": (WRITE, 8, "rsp", None),
          "enter": (WRITE, 8, "rsp", None), "pop": (READ, None, "rsp", 0),
          "popfq": (READ, 8, "rsp", 0), "popf": (READ, 2, "rsp", 0),
          "ret": (READ, 8, "rsp", 0), "retf": (READ, 16, "rsp", 0),
          "retfq": (READ, 16, "rsp", 0), "iretq": (READ, 40, "rsp", 0),
          "leave": (READ, 8, "rbp", 0)}
_GPR = ["ax", "bx", "cx", "dx", "si", "di", "bp", "sp"]
_REG32_TO_64 = {**{f"e{r}": f"r{r}" for r in _GPR}, "eip": "rip",
                **{f"r{n}d": f"r{n}" for n in range(8, 16)}}


class InstructionDecodeError(ValueError):
    """The bytes at an address are not a valid x86-64 instruction."""


@dataclasses.dataclass(frozen=True)
class MemoryAccess:
    """One memory access an instruction makes.

    address: linear address of the first byte (None if a register needed is
    not given; `note` says which). size: bytes (None if not known, e.g.
    xsave). operand: index of the explicit operand, None when implicit.
    role: 'operand', 'stack', 'string source' or 'string destination'.
    extent: [start, end) over all remaining iterations of a rep string op.
    """
    kind: str
    address: Optional[int]
    size: Optional[int]
    operand: Optional[int]
    role: str
    text: str
    extent: Optional[tuple] = None
    note: str = ""

    @property
    def reads(self) -> bool:
        return self.kind in (READ, READ_WRITE)

    @property
    def writes(self) -> bool:
        return self.kind in (WRITE, READ_WRITE)

    def contains(self, addr: int) -> bool:
        """True if ADDR is one of the bytes this access touches."""
        if self.address is None or self.size is None:
            return False
        return self.address <= addr < self.address + self.size

    def in_extent(self, addr: int) -> bool:
        return self.extent is not None and self.extent[0] <= addr < self.extent[1]

    def describe(self) -> str:
        if self.address is None:
            where = "unknown address"
        elif self.size is None:
            where = f"{self.address:#x} (size unknown)"
        else:
            where = f"[{self.address:#x}, {self.address + self.size:#x})"
        return f"{self.kind} of {self.text} ({self.role}) at {where}"


@dataclasses.dataclass(frozen=True)
class DecodedInstruction:
    address: int
    size: int
    raw: bytes
    mnemonic: str
    op_str: str
    accesses: tuple

    @property
    def text(self) -> str:
        return f"{self.mnemonic} {self.op_str}".strip()

    @property
    def writes(self) -> bool:
        return any(a.writes for a in self.accesses)


def _reg(regs: Mapping[str, int], name: str) -> Optional[int]:
    """Value of register NAME (64- or 32-bit form) from REGS, or None."""
    if name in _REG32_TO_64:
        value = regs.get(_REG32_TO_64[name])
        return None if value is None else value & 0xFFFFFFFF
    return regs.get(name)


def _operand_text(insn, mem, size: Optional[int]) -> str:
    parts = []
    if mem.base:
        parts.append(insn.reg_name(mem.base))
    if mem.index:
        parts.append(f"{insn.reg_name(mem.index)}*{mem.scale}")
    disp = mem.disp
    if not parts:
        parts.append(hex(disp & _MASK64))   # absolute address
    elif disp:
        text = str(abs(disp)) if abs(disp) < 10 else hex(abs(disp))
        parts.append(("- " if disp < 0 else "") + text)
    inner = " + ".join(parts).replace("+ - ", "- ")
    seg = f"{insn.reg_name(mem.segment)}:" if mem.segment else ""
    return f"{_SIZE_WORDS.get(size, 'unknown-size')} ptr {seg}[{inner}]"


def _effective_address(insn, mem, regs) -> tuple:
    """(address or None, note): base + index*scale + disp (+ fs/gs base)."""
    wide = insn.prefix[3] != 0x67
    total = mem.disp
    if mem.base == x86.X86_REG_RIP:
        total += insn.address + insn.size
    for reg, scale in ((mem.base, 1), (mem.index, mem.scale)):
        if reg and reg != x86.X86_REG_RIP:
            value = _reg(regs, insn.reg_name(reg))
            if value is None:
                return None, f"register {insn.reg_name(reg)} not given"
            total += value * scale
    total &= _MASK64 if wide else 0xFFFFFFFF
    if mem.segment in (x86.X86_REG_FS, x86.X86_REG_GS):
        base_name = f"{insn.reg_name(mem.segment)}_base"
        if regs.get(base_name) is None:
            return None, f"{base_name} not given"
        total = (total + regs[base_name]) & _MASK64
    return total, ""


def _string_extent(insn, address, size, regs) -> Optional[tuple]:
    """[start, end) of every remaining element of a rep string operation."""
    count = _reg(regs, "rcx" if insn.prefix[3] != 0x67 else "ecx")
    if address is None or count is None or count == 0:
        return None
    if regs.get("eflags", 0) & _DF:
        return (address - (count - 1) * size, address + size)
    return (address, address + count * size)


def _string_access(name: str, role: str) -> str:
    """What a string instruction does with its operand in ROLE (Capstone 4
    leaves ins/outs operands without an access type): movs/stos/ins write
    the destination [rdi]; cmps/scas read it; every source [rsi] is read."""
    if role == "string destination" and name[:4] in ("movs", "stos") or name[:3] == "ins":
        return WRITE
    return READ


def _explicit_accesses(insn, regs) -> list:
    name = insn.insn_name()
    if name in _NO_ACCESS:
        return []
    string_op = name in _STRING_OPS and all(
        op.type != x86.X86_OP_REG or op.size <= 8 for op in insn.operands)
    repeated = string_op and insn.prefix[0] in (0xF2, 0xF3)
    accesses = []
    for index, op in enumerate(insn.operands):
        if op.type != x86.X86_OP_MEM:
            continue
        kind = {1: READ, 2: WRITE, 3: READ_WRITE}.get(op.access, READ)
        if index == 0 and name in _READ_MODIFY_WRITE:
            kind = READ_WRITE
        size = _SIZE_OVERRIDE.get(name, op.size)
        address, note = _effective_address(insn, op.mem, regs)
        role = "operand"
        if string_op:
            role = ("string destination" if insn.reg_name(op.mem.base)
                    in ("rdi", "edi") else "string source")
            kind = _string_access(name, role)
        extent = _string_extent(insn, address, size, regs) if repeated else None
        accesses.append(MemoryAccess(kind, address, size, index, role,
                                     _operand_text(insn, op.mem, size),
                                     extent, note))
    return accesses


def _implicit_accesses(insn, regs) -> list:
    """Stack accesses of push/pop/call/ret/leave/enter/iret and xlat's read."""
    name = insn.insn_name()
    if name == "xlatb":
        rbx, rax = _reg(regs, "rbx"), _reg(regs, "rax")
        address = None if rbx is None or rax is None else (rbx + (rax & 0xFF))
        return [MemoryAccess(READ, address, 1, None, "operand",
                             "byte ptr [rbx + al]",
                             note="" if address is not None else
                             "register rbx or rax not given")]
    if name not in _STACK:
        return []
    kind, size, base, offset = _STACK[name]
    if size is None:
        size = insn.operands[0].size if insn.operands else 8
    if offset is None:
        offset = -size
    value = _reg(regs, base)
    address = None if value is None else (value + offset) & _MASK64
    sign = f" - {-offset}" if offset < 0 else ""
    note = "" if value is not None else f"register {base} not given"
    if name == "enter" and insn.operands and insn.operands[1].imm:
        note = "nesting level > 0 also copies frame pointers"
    return [MemoryAccess(kind, address, size, None, "stack",
                         f"{_SIZE_WORDS.get(size, '')} ptr [{base}{sign}]",
                         note=note)]


def decode_instruction(code: bytes, address: int,
                       regs: Optional[Mapping[str, int]] = None
                       ) -> DecodedInstruction:
    """Decode the first instruction of CODE, located at ADDRESS, and list its
    memory accesses (addresses computed from REGS where possible)."""
    insn = next(_capstone().disasm(bytes(code[:MAX_INSN_BYTES]), address, 1),
                None)
    if insn is None:
        raise InstructionDecodeError(
            f"no valid instruction at {address:#x} in bytes "
            f"{bytes(code[:MAX_INSN_BYTES]).hex(' ') or '(none)'}")
    regs = regs or {}
    accesses = _explicit_accesses(insn, regs) + _implicit_accesses(insn, regs)
    return DecodedInstruction(insn.address, insn.size, bytes(insn.bytes),
                              insn.mnemonic, insn.op_str, tuple(accesses))


@dataclasses.dataclass(frozen=True)
class FaultAnalysis:
    """Whether a page fault's error code and CR2 fit the instruction at RIP.

    consistent: the access kind (fetch, read, write, user/supervisor) can come
    from this instruction. cr2_in_access: CR2 lies in the bytes the matching
    access touches (None when its address could not be computed); a data
    fault whose CR2 is elsewhere is noted, not counted as inconsistent.
    """
    rip: int
    cr2: int
    error: PageFaultErrorCode
    instruction: Optional[DecodedInstruction]
    consistent: bool
    cr2_in_access: Optional[bool]
    access: Optional[MemoryAccess]
    problems: tuple
    notes: tuple

    def explanation(self) -> str:
        text = self.instruction.text if self.instruction else "(not decoded)"
        lines = [f"page fault at rip {self.rip:#x} `{text}`: cr2 {self.cr2:#x}, "
                 f"error {self.error.value:#x} ({self.error.describe()})",
                 "consistent" if self.consistent else "INCONSISTENT"]
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _check_fetch(insn, rip, cr2, error, problems, notes) -> Optional[bool]:
    if error.write:
        problems.append("error code sets both W/R and I/D; an instruction "
                        "fetch is never a write")
    end = rip + (insn.size if insn else MAX_INSN_BYTES)
    if rip <= cr2 < end:
        if cr2 // PAGE_4K != rip // PAGE_4K:
            notes.append(f"the instruction at {rip:#x} straddles a page "
                         f"boundary; its second page {cr2:#x} faulted")
        return True
    problems.append(f"instruction fetch fault, but cr2 {cr2:#x} is not within "
                    f"the instruction at rip [{rip:#x}, {end:#x})")
    return False


def _check_data(insn, rip, cr2, error, nx_enabled, problems, notes):
    """(cr2_in_access, matching access) for a read or write fault."""
    want = "write" if error.write else "read"
    fits = [a for a in insn.accesses if (a.writes if error.write else a.reads)]
    if not fits:
        if not error.write and rip <= cr2 < rip + insn.size:
            message = (f"cr2 {cr2:#x} is inside the instruction itself: an "
                       "instruction fetch reported without the I/D bit")
            if nx_enabled:
                problems.append(message + ", which NX-enabled CPUs set")
                return True, None
            notes.append(message + " (expected: NX is off)")
            return True, None
        does = ("does not access memory" if not insn.accesses else
                "only writes memory" if insn.writes else "only reads memory")
        problems.append(f"error code says {want}, but `{insn.text}` {does}")
        other = next((a for a in insn.accesses if a.contains(cr2)), None)
        if other is not None:
            notes.append(f"cr2 {cr2:#x} is in the {other.describe()}")
        return None, None
    for access in fits:
        if access.contains(cr2) or access.in_extent(cr2):
            notes.append(f"cr2 {cr2:#x} is in the {access.describe()}")
            if access.in_extent(cr2) and not access.contains(cr2):
                notes.append("cr2 is in a later iteration of the repeated "
                             "string operation than rsi/rdi point to")
            if access.kind == READ_WRITE and not error.write:
                notes.append("read-modify-write reported as a read: its read "
                             "faulted first (QEMU TCG does this; hardware "
                             "reports a write)")
            return True, access
    unknown = [a for a in fits if a.address is None or a.size is None]
    if unknown:
        notes.append(f"cr2 {cr2:#x} not checked: address of the "
                     f"{unknown[0].text} unknown ({unknown[0].note or 'size unknown'})")
        return None, None
    notes.append(f"cr2 {cr2:#x} is outside every {want} access: "
                 + "; ".join(a.describe() for a in fits))
    return False, None


def _check_privilege(regs, error, problems) -> None:
    cs = regs.get("cs")
    if cs is None:
        return
    cpl = cs & 3
    if error.user != (cpl == 3):
        mode = "user" if error.user else "supervisor"
        problems.append(f"error code says {mode}-mode access, but cs {cs:#x} "
                        f"is at CPL {cpl}")


def analyze_page_fault(cr2: int, error_code: int, regs: Mapping[str, int],
                       code: bytes, code_address: Optional[int] = None, *,
                       nx_enabled: bool = True) -> FaultAnalysis:
    """Cross-check a page fault (CR2, ERROR_CODE) with the instruction at
    regs['rip']. CODE holds bytes read at CODE_ADDRESS (default: rip); it may
    start before rip and may be empty when rip itself is unmapped.
    NX_ENABLED: whether EFER.NXE is set (then fetch faults set the I/D bit)."""
    if "rip" not in regs:
        raise ValueError("analyze_page_fault: regs must include 'rip'")
    rip = regs["rip"]
    start = rip if code_address is None else code_address
    at_rip = bytes(code[rip - start:]) if start <= rip < start + len(code) else b""
    error = PageFaultErrorCode(error_code)
    problems, notes = [], []
    try:
        insn = decode_instruction(at_rip, rip, regs)
    except InstructionDecodeError as failure:
        insn, decode_failure = None, str(failure)
    access = None
    if error.fetch:
        cr2_in = _check_fetch(insn, rip, cr2, error, problems, notes)
    elif insn is None:
        problems.append(f"cannot check a data access: {decode_failure}")
        cr2_in = None
    else:
        cr2_in, access = _check_data(insn, rip, cr2, error, nx_enabled,
                                     problems, notes)
    _check_privilege(regs, error, problems)
    if error.reserved_bit:
        notes.append("a paging entry for cr2 has a reserved bit set")
    return FaultAnalysis(rip, cr2, error, insn, not problems, cr2_in, access,
                         tuple(problems), tuple(notes))
