"""Where a stopped kernel's threads are, as one line each (HANG verdicts,
the program's fail()):

    main (tid 1, blocked): thread_launch+0x91 < schedule+0x226 < thread_block+0xd1 < ...
    page-parallel (tid 3, running): user mode at 0x401a2c

A kernel call chain is read through frame pointers (saved rbp, return
address above it) and printed by harness.debug.symbols.format_call_chain: the
first address is where the thread is, each caller is named at its call
instruction, and the walk stops, saying why, at the first frame pointer
outside the thread's kernel stack or not above the previous one, or at
the first word that is not a return address into kernel text.
"""

from __future__ import annotations

from typing import Callable, Optional

from harness.adapters.base import PINTOS_KAIST_LAYOUT
from harness.debug.symbols import (MAX_SHOWN_FRAMES, CallChain, SymbolTable, checked_chain,
                             format_call_chain)

ReadMemory = Callable[[int, int], bytes]
WALK_LIMIT = 256     # frames at most: a 4 KiB stack holds no more 16-byte frames
USER_SPACE_END = PINTOS_KAIST_LAYOUT.user_top   # both kernels' (their ABI's layout)


def _u64(read: ReadMemory, address: int) -> Optional[int]:
    try:
        return int.from_bytes(read(address, 8), "little")
    except Exception:  # noqa: BLE001 - an unreadable frame ends the walk
        return None


def entry_return(read: ReadMemory, symbols: SymbolTable, pc: int, rsp: int) -> list[int]:
    """[the return address at RSP] if PC is the first instruction of a
    function (a breakpoint at entry: the frame is not set up yet, so the
    frame-pointer chain would skip the direct caller), else []."""
    found = symbols.function_at(pc)
    if found is None or found[1] != 0:
        return []
    ret = _u64(read, rsp)
    return [ret] if ret is not None and symbols.not_a_return(ret) is None else []


def walk_frame_pointers(read: ReadMemory, symbols: SymbolTable, pc: Optional[int],
                        known_returns: list[int], rbp: int, low: int, high: int,
                        limit: int = WALK_LIMIT) -> CallChain:
    """The call chain from PC, KNOWN_RETURNS (return addresses found
    before the frame-pointer chain, e.g. entry_return) and the chain of
    saved rbp values from RBP, each frame inside the stack [LOW, HIGH) and
    above the one before. An rbp of 0 or a return address of 0 is the
    natural end (the first frame of a thread); anything else that stops
    the walk is named in END (a user-mode frame pointer: the thread came
    from a system call or an interrupt in user mode). A stack that is
    itself a user address (LOW: kernel code running on the user's stack,
    as after an interrupt between restoring the user rsp and `sysretq`)
    holds its kernel frames at user addresses: they are walked too."""
    chain = checked_chain(symbols, pc, known_returns)
    chain.frame_pointers = [None] * len(chain.returns)
    previous = None
    kernel_on_user_stack = low < USER_SPACE_END
    while chain.end is None and rbp != 0 and len(chain.returns) < limit:
        if rbp < USER_SPACE_END and not kernel_on_user_stack:
            chain.end = f"frame pointer {rbp:#x} is a user address (entered from user mode)"
            break
        if not low <= rbp <= high - 16:
            chain.end = f"frame pointer {rbp:#x} outside the thread's kernel stack"
            break
        if previous is not None and rbp <= previous:
            chain.end = f"frame pointer {rbp:#x} not above the previous frame {previous:#x}"
            break
        ret, up = _u64(read, rbp + 8), _u64(read, rbp)
        if ret is None or up is None:
            chain.end = f"frame at {rbp:#x} unreadable"
            break
        if ret == 0:       # the fake return address below a thread's first frame
            break
        chain.end = symbols.not_a_return(ret)
        if chain.end is None:
            chain.returns.append(ret)
            chain.frame_pointers.append(rbp)
            previous, rbp = rbp, up
    return chain


def thread_line(name: str, tid: int, status: str, where: str) -> str:
    return f"{name} (tid {tid}, {status}): {where}"


def describe_chain(symbols: SymbolTable, chain: CallChain) -> str:
    """CHAIN for a thread list: at most MAX_SHOWN_FRAMES frames."""
    return format_call_chain(symbols, chain, MAX_SHOWN_FRAMES)
