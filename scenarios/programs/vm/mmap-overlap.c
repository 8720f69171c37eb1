/* mmap-overlap: a mapping may not overlap an existing one: "zeros" is
 * mapped at 0x10000000, then mapped again at the same address through a
 * second descriptor, which must fail.
 * Pintos-KAIST: tests/vm/mmap-overlap (needs zeros, 6 KiB: 2 pages), step
 * for step. (Partial overlaps are the extra scenario mm-part-over.)
 * Checkpoint 1: after the refused attempt; 0x10000000 is lazy and
 *   0x0ffff000 unmapped. */
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  int fd[2];

  msg("begin");
  CHECK((fd[0] = open("zeros")) > 1, "open \"zeros\"");
  CHECK(mmap(MAP_ADDR, PGSIZE, 0, fd[0], 0) != MAP_FAILED,
        "mmap \"zeros\" at 0x10000000");
  CHECK((fd[1] = open("zeros")) > 1 && fd[0] != fd[1], "open \"zeros\" again");
  CHECK(mmap(MAP_ADDR, PGSIZE, 0, fd[1], 0) == MAP_FAILED,
        "mmap \"zeros\" at 0x10000000 again is refused");
  checkpoint(1);
  msg("end");
  return 0;
}
