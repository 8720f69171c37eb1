/* pt-bad-read: read() into a buffer 4096 bytes below the stack pointer
 * (not a legal stack access) must kill the process with exit(-1) from
 * inside the system call, and must not grow the stack.
 * Pintos-KAIST: tests/vm/pt-bad-read (needs sample.txt).
 * Step for step as there (the buffer is exactly a page below the stack
 * pointer here, a page below a local variable there, i.e. a little less
 * than a page below rsp: both far below rsp - 8).
 * Checkpoint 1: just before read(); the page of probe (the buffer) is not
 * present. */
#include "vmtest.h"

int main(void) {
  uintptr_t rsp;

  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
  vmcheck_probe = rsp - 4096;
  checkpoint(1);
  int n = read(fd, (void *)(rsp - 4096), 1);
  fail("read into 4096 bytes below the stack pointer returned %d", n);
}
