/* pt-grow-bad: reading 4096 bytes below the stack pointer is not a stack
 * access (only rsp - 8 and above is); the kernel must kill the process
 * with exit(-1), and must not grow the stack.
 * Pintos-KAIST: tests/vm/pt-grow-bad. Expected: "(pt-grow-bad) begin",
 * then "pt-grow-bad: exit(-1)".
 * Step for step as there.
 * Checkpoint 1: just before the read; the page of probe (= rsp - 4096 of
 * main) is not present. */
#include "vmtest.h"

int main(void) {
  uintptr_t rsp;
  uint64_t value;

  msg("begin");
  __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
  vmcheck_probe = rsp - 4096;
  checkpoint(1);
  __asm__ volatile("movq -4096(%%rsp), %0" : "=r"(value) : : "memory");
  fail("read 4096 bytes below the stack pointer returned %llu",
       (unsigned long long)value);
}
