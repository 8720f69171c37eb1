"""Where an adapter tells the harness to stop and record a fault
(KernelAdapter.fault_sites): kernel addresses reached only on the kill,
panic and fix-up paths of a kernel's fault handling, never on the path of
a fault it resolves as designed. harness/run/fault_capture.py arms them
and reads the fault at each stop.

Kinds of site:
  HOOK        the reference kernel's vmcheck_hook_fault(frame, cr2, outcome)
  FRAME_ARG   a function whose first argument is the trap frame (Pintos's kill)
  IN_HANDLER  inside the page-fault handler after it failed to resolve the
              fault; the trap frame is found on the stack, CR2 in the slot
              the handler saved it to (rbp + cr2_slot) when known
  PANIC       on the panic's way (the reference kernel's vmcheck_hook_panic,
              Pintos's power_off): a panic if debug_panic is on the stack,
              which is then walked for trap frames

Apart from these, KernelAdapter.fault_entry names the entry of the
kernel's page-fault handler (FRAME_ARG), which every fault passes: the
hang watch's fault-storm rule (harness/run/fault_storm.py) arms it only for
a moment, in a run that has made no progress for a while; a stop at one of
the sites above (a fault the kernel did not resolve) breaks that rule's
streak of identical faults.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

HOOK, FRAME_ARG, IN_HANDLER, PANIC = "hook", "frame-arg", "in-handler", "panic"


@dataclasses.dataclass(frozen=True)
class FaultSite:
    """Where the harness stops to record a fault (see the module doc)."""
    address: int
    kind: str
    outcome: str = ""                  # what the kernel does next (HOOK: from its argument)
    cr2_slot: Optional[int] = None     # IN_HANDLER: rbp offset of the saved CR2


PAGE_FAULT_HANDLER = "page_fault"   # both kernels: static void page_fault(struct intr_frame *)


def handler_entry(symbols, name: str = PAGE_FAULT_HANDLER) -> Optional[FaultSite]:
    """The FRAME_ARG site at the entry of the page-fault handler NAME, None
    if the kernel has no such function."""
    symbol = symbols.find(name)
    if symbol is None:
        return None
    return FaultSite(symbol.address, FRAME_ARG, "the page-fault handler's entry")
