/* mmap-unmap: after munmap the pages of a mapping are gone: reading one
 * must kill the process with exit(-1). The mapping is two pages long and
 * the file (sample.txt) fills part of the first; only page 0 is read
 * while mapped (its first word, printed twice: once as read and once plus
 * 0x1000), and page 1 is read after munmap.
 * Pintos-KAIST: tests/vm/mmap-unmap (needs sample.txt), step for step.
 * Page 1 lies wholly past the end of the file and is never touched while
 * mapped: whether reading it would give zeros or kill the process is up
 * to the kernel, so nothing here depends on it.
 * Checkpoint 1: after reading page 0; page 0 present, page 1 not present.
 * Checkpoint 2: after munmap; both unmapped. */
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  void *map;
  int fd;

  msg("begin");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK((map = mmap(MAP_ADDR, 2 * PGSIZE, 0, fd, 0)) != MAP_FAILED,
        "mmap \"sample.txt\" over 2 pages");
  msg("first word of page 0: %d", *(volatile int *)MAP_ADDR);
  msg("first word of page 0, plus 0x1000: %d",
      *(volatile int *)MAP_ADDR + 0x1000);
  checkpoint(1);
  munmap(map);
  msg("munmap");
  checkpoint(2);
  fail("unmapped page 1 is still readable (%d)",
       *(volatile int *)(MAP_ADDR + PGSIZE));
}
