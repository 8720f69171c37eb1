/* mmap-over-code: mmap over the page holding the program's code must
 * fail.
 * Pintos-KAIST: tests/vm/mmap-over-code (needs sample.txt).
 * Step for step as there (the page of main here, of test_main there).
 * Checkpoint 1: after the call; the page of main is still present and not
 *   writable. */
#include "vmtest.h"

int main(void) {
  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  CHECK(mmap((void *)PAGE_ROUND_DOWN(main), PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap over the code segment fails");
  checkpoint(1);
  msg("end");
  return 0;
}
