/* The checkpoint hook. The harness sets a breakpoint on `checkpoint` and
 * reads the id from rdi. Under TCG a breakpoint makes QEMU single-step the
 * whole 4 KiB page it sits on, so the function lives alone on its own page:
 * section .vmcheck.checkpoint is page-aligned here and padded to a page
 * boundary by user.ld. noipa keeps every call a real call with the id in
 * rdi (no inlining, cloning or interprocedural removal). */
#include "vmuser.h"

__attribute__((noipa, used, aligned(4096), section(".vmcheck.checkpoint")))
void checkpoint(int id) {
  __asm__ volatile("" : : "r"(id) : "memory");
}
