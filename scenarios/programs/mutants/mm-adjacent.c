/* mm-adjacent: a mapping may end right where another begins. The program
 * maps page 1 of large.txt at MAP_ADDR + PGSIZE, then page 0 of it at
 * MAP_ADDR with a length of exactly one page: the second range touches the
 * first but does not overlap it, so mmap must succeed (a kernel that also
 * checks the page after the range refuses it: generated mutant mmap-42,
 * `va <= start + length` in the overlap loop). Both pages must then read
 * the file at their offsets, and one more page below, with a length of a
 * page and a byte, must be refused: it overlaps page 0 by that byte.
 * Checkpoint 1: after the two mmaps, both pages valid. */
#include "../extra/extra.h"
#include "../vm/textdata.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  msg("begin");
  int fd = open_or_fail("large.txt");
  CHECK(mmap(MAP_ADDR + PGSIZE, PGSIZE, 0, fd, PGSIZE) == MAP_ADDR + PGSIZE,
        "mmap page 1 of \"large.txt\" at 0x10001000");
  CHECK(mmap(MAP_ADDR, PGSIZE, 0, fd, 0) == MAP_ADDR,
        "mmap page 0 of \"large.txt\" at 0x10000000, right below it");
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  CHECK(text_mismatch("large", 0, MAP_ADDR, 2 * PGSIZE) == 2 * PGSIZE,
        "the two pages read large.txt's first two pages");
  CHECK(mmap(MAP_ADDR - PGSIZE, PGSIZE + 1, 0, fd, 0) == NULL,
        "mmap of a page and a byte below them is refused (overlap)");
  munmap(MAP_ADDR);
  munmap(MAP_ADDR + PGSIZE);
  msg("end");
  return 0;
}
