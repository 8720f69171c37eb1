/* mmap-zero-len: mmap with length 0 must fail (return NULL); a kernel
 * that kills the process with exit(-1) instead is also accepted.
 * Pintos-KAIST: tests/vm/mmap-zero-len (creates sample.txt itself, so
 * sample.txt must NOT be on the disk beforehand).
 * Step for step as there.
 * Checkpoint 1: after the call; 0x10000000 is unmapped. */
#include "textdata.h"
#include "vmtest.h"

int main(void) {
  msg("begin");
  CHECK(create("sample.txt", SAMPLE_LEN), "create \"sample.txt\"");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  CHECK(mmap((void *)0x10000000, 0, 0, fd, 0) == MAP_FAILED,
        "mmap with length 0 fails");
  checkpoint(1);
  msg("end");
  return 0;
}
