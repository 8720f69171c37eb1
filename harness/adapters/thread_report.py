"""Where a stopped kernel's threads are, as one line each (HANG verdicts):

    main (tid 1, blocked): sema_down+0x5f < process_wait+0x31 < run_task+0x2a
    page-parallel (tid 3, running): user mode at 0x401a2c

A kernel call chain is read through frame pointers (saved rbp, return
address above it), staying inside the thread's kernel stack; kernels built
without frame pointers get the return addresses found on the stack instead
(stack_return_addresses), marked "(stack scan)".
"""

from __future__ import annotations

from typing import Callable, Optional

ReadMemory = Callable[[int, int], bytes]
MAX_FRAMES = 8
KERNEL_SPACE = 0x8000000000


def _u64(read: ReadMemory, address: int) -> Optional[int]:
    try:
        return int.from_bytes(read(address, 8), "little")
    except Exception:  # noqa: BLE001 - a bad frame pointer ends the walk
        return None


def frame_pointer_chain(read: ReadMemory, rip: int, rbp: int, low: int, high: int,
                        limit: int = MAX_FRAMES) -> list[int]:
    """RIP, then the return addresses of the frame-pointer chain from RBP,
    while each frame lies in [LOW, HIGH) and the chain goes up the stack;
    at most LIMIT addresses."""
    chain = [rip]
    while len(chain) < limit and low <= rbp < high - 8:
        ret, up = _u64(read, rbp + 8), _u64(read, rbp)
        if ret is None or ret < KERNEL_SPACE:
            break
        chain.append(ret)
        if up is None or up <= rbp:
            break
        rbp = up
    return chain


def stack_return_addresses(read: ReadMemory, is_code: Callable[[int], bool], rsp: int,
                           high: int) -> list[int]:
    """Words on the stack from RSP up to HIGH that point into kernel code,
    innermost first (some may be stale: a scan, not a walk)."""
    found = []
    for address in range(rsp & ~7, high, 8):
        word = _u64(read, address)
        if word is None:
            break
        if word >= KERNEL_SPACE and is_code(word):
            found.append(word)
            if len(found) == MAX_FRAMES:
                break
    return found


def thread_line(name: str, tid: int, status: str, where: str) -> str:
    return f"{name} (tid {tid}, {status}): {where}"


def describe_chain(describe: Callable[[int], str], chain: list[int]) -> str:
    return " < ".join(describe(a) for a in chain) if chain else "no kernel frames found"
