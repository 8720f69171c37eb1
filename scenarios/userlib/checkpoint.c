/* The checkpoint hook. The harness sets a breakpoint on `checkpoint` and
 * reads the id from rdi. Under TCG a breakpoint makes QEMU single-step the
 * whole 4 KiB page it sits on, so the function lives alone on its own page:
 * section .vmcheck.checkpoint is page-aligned here and padded to a page
 * boundary by user.ld. noipa keeps every call a real call with the id in
 * rdi (no inlining, cloning or interprocedural removal). The body starts
 * with a nop: the breakpoint sits on it, not on the `ret`, because a `ret`
 * whose stack page was swapped out faults and runs again, which would
 * count as a second stop. */
#include "vmuser.h"

__attribute__((noipa, used, aligned(4096), section(".vmcheck.checkpoint")))
void checkpoint(int id) {
  __asm__ volatile("nop" : : "r"(id) : "memory");
}
