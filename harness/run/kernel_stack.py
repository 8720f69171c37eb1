"""A stopped kernel's stack, walked through its trap frames.

read_trap_frame() reads a struct intr_frame (either kernel's layout, by
DWARF); walk_stack() follows the frame pointers from a code address
(harness/adapters/thread_report.py) and, at each return into the interrupt
or system-call entry stub, names the trap frame the entry left there, and
past an interrupt of kernel code goes on at the interrupted instruction.
The fault capture (harness/run/fault_capture.py) and the fault's
explanation (harness/run/fault_explain.py) read stacks with it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from harness.adapters.thread_report import entry_return, walk_frame_pointers
from harness.errors import HarnessError

MAX_STACK = 32                 # frames walked
STACK_SPAN = 0x10000           # a kernel stack lies within this above rsp
ENTRY_SPAN = 256               # an entry stub's call of its handler lies within this
INTERRUPT_ENTRY = "intr_entry"     # both kernels: `call intr_handler` with rdi = frame
INTERRUPTED = "interrupted"        # walk_stack: the instruction a trap interrupted
MAX_NESTED_TRAPS = 4
SYSCALL_ENTRY = "syscall_entry"    # both kernels: `call` the handler with rdi = frame


@dataclasses.dataclass
class TrapFrame:
    """A struct intr_frame read from the guest: ADDRESS, registers by GDB
    name (rax..r15, rip, eflags, cs, rsp), vector and error code."""
    address: int
    regs: dict
    vector: int
    error_code: int

    @property
    def user(self) -> bool:
        return self.regs.get("cs", 0) & 3 == 3


_GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11",
         "r12", "r13", "r14", "r15")


def read_trap_frame(dbg, address: int) -> TrapFrame:
    """The struct intr_frame at ADDRESS (either kernel's layout, by DWARF)."""
    f = dbg.read_struct(address, "struct intr_frame")
    regs = {name: f[f"R.{name}"] for name in _GPRS}
    flags = "rflags" if "rflags" in set(f) else "eflags"    # reference / Pintos-KAIST
    regs.update(rip=f["rip"], cs=f["cs"], eflags=f[flags], rsp=f["rsp"])
    return TrapFrame(address, regs, f["vec_no"], f["error_code"])


def walk_stack(dbg, pc: int, rbp: int, rsp: int, depth: int = 0) -> list:
    """The kernel call chain at PC (frame pointer RBP, stack pointer RSP),
    innermost first, as [(address, trap frame address or None, entry name
    or None)]: PC, then each return address (the walk of
    harness/adapters/thread_report.py). A return into the interrupt or
    system-call entry carries the trap frame: the entry calls its handler
    with rsp = frame, so the frame sits just above that return address.
    Past an interrupt of kernel code the walk starts again at the
    interrupted instruction (entry name INTERRUPTED) with its rbp and rsp,
    so a function interrupted before it set up its frame still names its
    caller."""
    symbols = dbg.symbols
    known = entry_return(dbg.read_virt, symbols, pc, rsp)
    chain = walk_frame_pointers(dbg.read_virt, symbols, pc, known, rbp,
                                rsp, rsp + STACK_SPAN, MAX_STACK)
    out = [(pc, None, None)]
    for ret, frame_pointer in zip(chain.returns, chain.frame_pointers):
        entry = trap_entry_of(symbols, ret)
        if entry is None or frame_pointer is None:
            out.append((ret, None, None))
            continue
        out.append((ret, frame_pointer + 16, entry))
        if entry == INTERRUPT_ENTRY and depth < MAX_NESTED_TRAPS:
            try:
                frame = read_trap_frame(dbg, frame_pointer + 16)
            except (HarnessError, LookupError):
                break
            if not frame.user:
                rest = walk_stack(dbg, frame.regs["rip"], frame.regs["rbp"],
                                  frame.regs["rsp"], depth + 1)
                return out + [(rest[0][0], None, INTERRUPTED)] + rest[1:]
            break
    return out


def trap_entry_of(symbols, ret: int) -> Optional[str]:
    """INTERRUPT_ENTRY or SYSCALL_ENTRY if return address RET is the one
    after the entry stub's call of its handler (within ENTRY_SPAN bytes of
    the nearest entry symbol below it: labels inside a stub, such as
    Pintos's no_sti or the reference's intr_exit, name no function of
    their own), else None."""
    best = None
    for name in (INTERRUPT_ENTRY, SYSCALL_ENTRY):
        symbol = symbols.find(name)
        if symbol is not None and symbol.address < ret and (
                best is None or symbol.address > best[1]):
            best = (name, symbol.address)
    return best[0] if best is not None and ret - best[1] <= ENTRY_SPAN else None
