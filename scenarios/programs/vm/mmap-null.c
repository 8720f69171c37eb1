/* mmap-null: mmap at address 0 must fail.
 * Pintos-KAIST: tests/vm/mmap-null (needs sample.txt).
 * Step for step as there.
 * Checkpoint 1: after the call; page 0 is unmapped. */
#include "vmtest.h"

int main(void) {
  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  CHECK(mmap(NULL, PGSIZE, 0, fd, 0) == MAP_FAILED, "mmap at 0 fails");
  checkpoint(1);
  msg("end");
  return 0;
}
