/* mm-part-over: a mapping may not overlap an existing one partly, from
 * either side. "zeros" (2 pages) is mapped at 0x10000000 over 1 page; a
 * second mapping of it over 2 pages at 0x0ffff000 (its last page would be
 * 0x10000000) and one at 0x10000000 over 2 pages (its first page is
 * 0x10000000) must both fail, and leave nothing behind: neither
 * 0x0ffff000 nor 0x10001000 may be mapped afterwards. (Pintos-KAIST's
 * mmap-overlap only tries the same address and length again.)
 * Checkpoint 1: after both refused attempts; 0x10000000 is lazy, and
 *   0x0ffff000 and 0x10001000 are unmapped. */
#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  msg("begin");
  int fd0 = open_or_fail("zeros");
  int fd1 = open_or_fail("zeros");
  CHECK(mmap(MAP_ADDR, PGSIZE, 0, fd0, 0) == MAP_ADDR,
        "mmap \"zeros\" at 0x10000000 over 1 page");
  CHECK(mmap(MAP_ADDR - PGSIZE, 2 * PGSIZE, 0, fd1, 0) == MAP_FAILED,
        "mmap \"zeros\" at 0x0ffff000 over 2 pages is refused");
  CHECK(mmap(MAP_ADDR, 2 * PGSIZE, 0, fd1, 0) == MAP_FAILED,
        "mmap \"zeros\" at 0x10000000 over 2 pages is refused");
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  msg("end");
  return 0;
}
