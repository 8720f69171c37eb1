/* mmap-bad-fd2: mmap of fd 0 (console input) must fail (return NULL); a
 * kernel that kills the process with exit(-1) instead is also accepted.
 * Pintos-KAIST: tests/vm/mmap-bad-fd2.
 * Step for step as there.
 * Checkpoint 1: after the call; 0x10000000 is unmapped. */
#include "vmtest.h"

int main(void) {
  msg("begin");
  CHECK(mmap((void *)0x10000000, PGSIZE, 0, 0, 0) == MAP_FAILED,
        "mmap of fd 0 (console input) fails");
  checkpoint(1);
  msg("end");
  return 0;
}
