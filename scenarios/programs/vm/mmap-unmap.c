/* mmap-unmap: after munmap the pages of a mapping are gone: reading one
 * must kill the process with exit(-1). The mapping is two pages long; the
 * file (sample.txt) fills part of the first, so the second reads as zeros.
 * Pintos-KAIST: tests/vm/mmap-unmap (needs sample.txt).
 * Checkpoint 1: after reading both pages; both present.
 * Checkpoint 2: after munmap; both unmapped. */
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  char *map = mmap(MAP_ADDR, 2 * PGSIZE, 0, fd, 0);
  CHECK(map == MAP_ADDR, "mmap \"sample.txt\" over 2 pages");
  msg("first word of page 0: %d", *(volatile int *)map);
  msg("first word of page 1: %d", *(volatile int *)(map + PGSIZE));
  checkpoint(1);
  munmap(map);
  msg("munmap");
  checkpoint(2);
  fail("unmapped page 0 is still readable (%d)", *(volatile int *)map);
}
