/* pt-bad-addr: reading an address that nothing maps (0x04000000, between
 * the program and the stack) must kill the process with exit(-1).
 * Pintos-KAIST: tests/vm/pt-bad-addr. Expected: "(pt-bad-addr) begin",
 * then "pt-bad-addr: exit(-1)".
 * Step for step as there.
 * Checkpoint 1: just before the read; 0x04000000 is unmapped. */
#include "vmtest.h"

#define BAD_ADDR 0x04000000UL

int main(void) {
  msg("begin");
  checkpoint(1);
  int value = *(volatile int *)BAD_ADDR;
  fail("read of unmapped address 0x%lx returned %d", BAD_ADDR, value);
}
