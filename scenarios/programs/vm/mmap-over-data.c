/* mmap-over-data: mmap over a page of the program's data segment must
 * fail, for initialized data (.data) and for a page that is all
 * zero-filled data (.bss, beyond the end of the segment's file bytes).
 * Pintos-KAIST: tests/vm/mmap-over-data (needs sample.txt).
 * Checkpoint 1: after both calls; the pages of data_var and bss_page are
 *   valid and writable. */
#include "vmtest.h"

int data_var = 1;
char bss_page[PGSIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  CHECK(mmap((void *)PAGE_ROUND_DOWN(&data_var), PGSIZE, 0, fd, 0) ==
            MAP_FAILED,
        "mmap over .data fails");
  CHECK(mmap((void *)PAGE_ROUND_DOWN(bss_page), PGSIZE, 0, fd, 0) == MAP_FAILED,
        "mmap over .bss fails");
  checkpoint(1);
  msg("end");
  return 0;
}
