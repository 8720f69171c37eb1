"""Where a kernel family puts things in a process's address space.

The kernel adapter supplies one AddressLayout (KernelAdapter.address_layout;
both of ours use the Pintos-KAIST user ABI's, harness/adapters/base.py); it
is stored in every MachineState and in results.json, and the oracles, the
state capture, the page walker and the reports read the layout from there:
no module keeps a copy of these numbers.
"""

from __future__ import annotations

import dataclasses

PAGE_SIZE = 4096   # x86-64's smallest page: an architecture fact, not the kernel's


@dataclasses.dataclass(frozen=True)
class AddressLayout:
    """CODE_BASE: where user programs are linked (their first text page).
    USER_STACK: the first stack page ends here; the stack may grow down to
    USER_STACK - STACK_LIMIT. USER_TOP: user addresses lie below it, the
    kernel's above. KERN_BASE: the kernel's direct map of physical memory
    (kernel VA = physical address + KERN_BASE)."""
    code_base: int
    user_stack: int
    stack_limit: int
    user_top: int
    kern_base: int

    @property
    def stack_bottom(self) -> int:
        """The lowest address the user stack may grow down to."""
        return self.user_stack - self.stack_limit

    def in_stack(self, va: int) -> bool:
        """VA lies where the user stack may be (STACK_LIMIT below USER_STACK)."""
        return self.stack_bottom <= va < self.user_stack

    def is_kernel(self, va: int) -> bool:
        return va >= self.user_top

    def kernel_va(self, phys: int) -> int:
        """The direct-map kernel address of physical address PHYS."""
        return phys + self.kern_base

    def phys(self, kernel_va: int) -> int:
        """The physical address behind direct-map kernel address KERNEL_VA."""
        return kernel_va - self.kern_base

    def constants(self) -> dict:
        """The names an address expression of a scenario may use."""
        return {"PGSIZE": PAGE_SIZE, "USER_STACK": self.user_stack,
                "KERN_BASE": self.kern_base, "CODE_BASE": self.code_base}
