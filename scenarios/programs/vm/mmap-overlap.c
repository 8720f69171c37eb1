/* mmap-overlap: a mapping may not overlap an existing one, neither at the
 * same address nor partly; a refused mmap leaves nothing mapped.
 * Pintos-KAIST: tests/vm/mmap-overlap (needs zeros, 6 KiB: 2 pages).
 * Checkpoint 1: after both refused attempts; 0x10000000 is lazy,
 *   0x0ffff000 is unmapped. */
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  msg("begin");
  int fd0 = open("zeros");
  CHECK(fd0 > 1, "open \"zeros\"");
  CHECK(mmap(MAP_ADDR, PGSIZE, 0, fd0, 0) == MAP_ADDR,
        "mmap \"zeros\" at 0x10000000");
  int fd1 = open("zeros");
  CHECK(fd1 > 1 && fd1 != fd0, "open \"zeros\" again");
  CHECK(mmap(MAP_ADDR, PGSIZE, 0, fd1, 0) == MAP_FAILED,
        "mmap \"zeros\" at 0x10000000 again is refused");
  CHECK(mmap(MAP_ADDR - PGSIZE, 2 * PGSIZE, 0, fd1, 0) == MAP_FAILED,
        "mmap \"zeros\" at 0x0ffff000 over 2 pages is refused");
  checkpoint(1);
  msg("end");
  return 0;
}
