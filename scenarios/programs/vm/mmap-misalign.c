/* mmap-misalign: mmap at an address that is not page-aligned must fail.
 * Pintos-KAIST: tests/vm/mmap-misalign (needs sample.txt).
 * Step for step as there.
 * Checkpoint 1: after the call; 0x10001000 is unmapped. */
#include "vmtest.h"

int main(void) {
  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  CHECK(mmap((void *)0x10001234, PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap at 0x10001234 fails");
  checkpoint(1);
  msg("end");
  return 0;
}
