/* mmap-over-data: mmap over the page of a data-segment variable must
 * fail: the page of a one-byte static variable in .bss that the program
 * never touches.
 * Pintos-KAIST: tests/vm/mmap-over-data (needs sample.txt), step for
 * step: one call. (mmap over a page of initialized .data and over a
 * page-aligned .bss page are the extra scenario mm-over-segs.)
 * Checkpoint 1: after the call; the page of data_byte is valid and
 *   writable. */
#include "vmtest.h"

static char data_byte;

int main(void) {
  int fd;

  msg("begin");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK(mmap((void *)PAGE_ROUND_DOWN(&data_byte), PGSIZE, 0, fd, 0) ==
            MAP_FAILED,
        "mmap over the data segment fails");
  checkpoint(1);
  msg("end");
  return 0;
}
