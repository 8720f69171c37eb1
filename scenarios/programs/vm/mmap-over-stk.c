/* mmap-over-stk: mmap over a page of the stack must fail.
 * Pintos-KAIST: tests/vm/mmap-over-stk (needs sample.txt).
 * Step for step as there (the address of a local variable is also stored in
 * vmcheck_probe, a .bss word, for the checkpoint).
 * Checkpoint 1: after the call; the page of probe (a local variable) is
 *   present and writable. */
#include "vmtest.h"

int main(void) {
  volatile int local = 0;

  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  vmcheck_probe = (uintptr_t)&local;
  CHECK(mmap((void *)PAGE_ROUND_DOWN(&local), PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap over the stack fails");
  checkpoint(1);
  msg("end");
  return local;
}
