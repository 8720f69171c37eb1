/* mmap-zero: mmap of length 0 (of an empty file) may not map anything:
 * whatever the call returns, reading its address must kill the process
 * with exit(-1).
 * Pintos-KAIST: tests/vm/mmap-zero (creates "empty").
 * Step for step as there.
 * Checkpoint 1: after the call; 0x7f000000 is unmapped. */
#include "vmtest.h"

#define MAP_ADDR ((char *)0x7f000000)

int main(void) {
  msg("begin");
  CHECK(create("empty", 0), "create \"empty\" (0 bytes)");
  int fd = open("empty");
  CHECK(fd > 1, "open \"empty\"");
  msg("mmap \"empty\" with length 0");
  mmap(MAP_ADDR, 0, 0, fd, 0);
  checkpoint(1);
  fail("0x7f000000 is readable (%d)", *(volatile char *)MAP_ADDR);
}
