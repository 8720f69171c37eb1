/* mmap-bad-off: mmap at a file offset that is not page-aligned (0x1234)
 * must fail.
 * Pintos-KAIST: tests/vm/mmap-bad-off (needs large.txt).
 * Step for step as there.
 * Checkpoint 1: after the call; 0x10000000 is unmapped. */
#include "vmtest.h"

int main(void) {
  msg("begin");
  int fd = open("large.txt");
  CHECK(fd > 1, "open \"large.txt\"");
  CHECK(mmap((void *)0x10000000, PGSIZE, 0, fd, 0x1234) == MAP_FAILED,
        "mmap at file offset 0x1234 fails");
  checkpoint(1);
  msg("end");
  return 0;
}
