"""Where a Pintos-KAIST kernel goes with a fault it does not resolve.

Student kernels end an unresolved page fault in many ways (exit(-1),
thread_exit(), kill()), but all of them start where page_fault() finds
that vm_try_handle_fault() returned false. That place is found by decoding
page_fault(): the call to vm_try_handle_fault (direct, or `movabs rax,
target; call rax` as the large code model emits), then `test al, al` and
the conditional jump whose not-resolved side is the site. The handler's
copy of CR2 (`mov rax, cr2; mov [rbp - N], rax`) is read there, since a
fault nested inside the handler changes CR2 itself.

The sites: that one (IN_HANDLER), kill() (FRAME_ARG: its argument is the
trap frame; other exceptions come here) and power_off() (PANIC: a panic
when debug_panic is on the stack; a breakpoint on debug_panic itself would
put the hot list functions that share its page under TCG's one instruction
at a time, while power_off runs once a run).
"""

from __future__ import annotations

import re
from typing import Optional

from harness.x86.disasm import x86_64_decoder
from harness.adapters.fault_sites import FRAME_ARG, IN_HANDLER, PANIC, FaultSite

HANDLER, RESOLVER = "page_fault", "vm_try_handle_fault"
_SAVED_CR2 = re.compile(r"qword ptr \[rbp - (0x[0-9a-f]+|\d+)\], rax")
_TAKEN_IF_RESOLVED = {"jne", "jnz"}   # after `test al, al`: taken when true
_TAKEN_IF_FAILED = {"je", "jz"}


def _instructions(symbols, name: str) -> list:
    """[(address, mnemonic, operands)] of function NAME, [] if unknown."""
    symbol = symbols.find(name)
    if symbol is None or not symbol.size:
        return []
    code = symbols.code(symbol.address, symbol.size)
    if code is None:
        return []
    return [(a, m, o) for a, _, m, o in x86_64_decoder().disasm_lite(code, symbol.address)]


def _call_index(insns: list, target: int) -> Optional[int]:
    """Index of the call to TARGET: `call TARGET`, or `call REG` right after
    `movabs REG, TARGET` (within three instructions)."""
    for i, (_, mnemonic, ops) in enumerate(insns):
        if mnemonic != "call":
            continue
        if ops == hex(target):
            return i
        for _, m, o in insns[max(0, i - 3):i]:
            if m in ("movabs", "mov") and o == f"{ops}, {hex(target)}":
                return i
    return None


def _failure_address(insns: list, call: int) -> Optional[int]:
    """The first instruction of the not-resolved side of the branch on the
    call's boolean result (al), or None if the code is not that shape."""
    following = insns[call + 1:call + 3]
    if len(following) < 2 or following[0][1] != "test" or following[0][2] != "al, al":
        return None
    jump_address, jump, target = following[1]
    if jump in _TAKEN_IF_RESOLVED and call + 3 < len(insns):
        return insns[call + 3][0]
    if jump in _TAKEN_IF_FAILED and target.startswith("0x"):
        return int(target, 16)
    return None


def _cr2_slot(insns: list) -> Optional[int]:
    """rbp offset where the handler stores CR2 on entry, if it does."""
    for (_, m, ops), (_, m2, ops2) in zip(insns, insns[1:]):
        if m == "mov" and ops == "rax, cr2" and m2 == "mov":
            match = _SAVED_CR2.fullmatch(ops2)
            if match:
                return -int(match.group(1), 0)
    return None


def pintos_fault_sites(symbols) -> list:
    """The FaultSites of a Pintos-KAIST kernel (see the module doc); the
    not-resolved site is left out when page_fault() is not of the shape
    described (a tree without VM, or an unusual handler)."""
    sites = []
    insns = _instructions(symbols, HANDLER)
    resolver = symbols.find(RESOLVER)
    call = _call_index(insns, resolver.address) if resolver and insns else None
    failure = _failure_address(insns, call) if call is not None else None
    if failure is not None:
        sites.append(FaultSite(failure, IN_HANDLER,
                               "not resolved: vm_try_handle_fault() returned false",
                               _cr2_slot(insns)))
    kill = symbols.find("kill")
    if kill is not None:
        sites.append(FaultSite(kill.address, FRAME_ARG,
                               "kill(): the process or the kernel dies"))
    power_off = symbols.find("power_off")   # debug_panic's page holds the list code
    if power_off is not None:
        sites.append(FaultSite(power_off.address, PANIC, "the kernel panicked"))
    return sites
