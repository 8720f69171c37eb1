"""A panic that the course's system-call return path made, not the student.

Pintos-KAIST's `syscall_entry` (userprog/syscall-entry.S, handed out with
the skeleton) returns with `popq %rsp` then `sysretq`, and interrupts stay
enabled (it ran `sti` for the handler). An interrupt between the two
finds the CPU in ring 0 on the user's stack: no stack switch, so its
handler runs there, `thread_current()` (rsp rounded down to a page) is
no thread, and the kernel panics (`is_thread (t)` failed). Under
`-icount` a timer or disk deadline can end a translation block at any
instruction, so a run may land there, and then it does on every run of
that binary; without `-icount` QEMU takes interrupts only between
translation blocks and `popq %rsp; sysretq` is inside one. Real hardware
can land there too: the race is the skeleton's, in every tree alike.

So such a panic says nothing about the student's paging code: the runner
runs the scenario once more without `-icount`, and says why in the notes.
"""

from __future__ import annotations

from typing import Optional

from harness.adapters.thread_report import USER_SPACE_END
from harness.run.kernel_stack import ENTRY_SPAN, SYSCALL_ENTRY


def in_syscall_entry(symbols, address: int) -> bool:
    """True if ADDRESS is inside the system-call entry stub (within
    ENTRY_SPAN bytes of its symbol: its labels, such as Pintos's no_sti,
    are symbols of their own)."""
    entry = symbols.find(SYSCALL_ENTRY)
    return entry is not None and 0 <= address - entry.address <= ENTRY_SPAN


def interrupt_on_user_stack(stack: list, symbols) -> Optional[str]:
    """If a trap in STACK (KernelFrames, innermost first) interrupted
    kernel code inside the system-call entry stub with its trap frame at
    a user address (the CPU was in ring 0 on the user's stack): what
    happened, in one sentence; else None. SYMBOLS: the kernel's."""
    for index, frame in enumerate(stack):
        trap = frame.trap
        if trap is None or trap.user or trap.address >= USER_SPACE_END:
            continue
        if not in_syscall_entry(symbols, trap.rip):
            return None
        after = stack[index + 1] if index + 1 < len(stack) else None
        where = after.function if after is not None and after.interrupted else f"{trap.rip:#x}"
        return (f"an interrupt (vector {trap.vector:#x}) came at {where}, after the system-call "
                f"return had restored the user rsp and before `sysretq`, so its handler ran on "
                f"the user stack (trap frame at {trap.address:#x}): a race in the course's "
                f"userprog/syscall-entry.S, which returns with interrupts enabled")
    return None


def rerun_note(result, icount: bool, symbols) -> Optional[str]:
    """The note for running RESULT's scenario once more without -icount
    (ICOUNT: the run used it), or None: only a KERNEL_PANIC under -icount
    whose stack is interrupt_on_user_stack() (SYMBOLS: the kernel's)."""
    from results.model import Verdict
    if result.verdict is not Verdict.KERNEL_PANIC or not icount:
        return None
    why = interrupt_on_user_stack(result.panic_stack, symbols)
    if why is None:
        return None
    return (f"run again without -icount (not deterministic): the first run panicked because "
            f"{why} (first run's folder: {result.artifacts})")
