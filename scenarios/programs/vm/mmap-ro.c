/* mmap-ro: a store into a read-only mapping must kill the process with
 * exit(-1), even as the first touch of the page.
 * Pintos-KAIST: tests/vm/mmap-ro (needs large.txt), step for step.
 * Checkpoint 1: before the store; 0x10000000 lazy and not writable. */
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  void *map;
  int fd;

  msg("begin");
  CHECK((fd = open("large.txt")) > 1, "open \"large.txt\"");
  CHECK((map = mmap(MAP_ADDR, PGSIZE, 0, fd, 0)) != MAP_FAILED,
        "mmap \"large.txt\" read-only");
  checkpoint(1);
  msg("store into the read-only mapping");
  *(volatile int *)map = 0;
  fail("store into a read-only mapping succeeded");
}
