/* mm-fail: an mmap that fails part-way leaves nothing behind. The
 * scenario makes the kernel fail to record the third page of a 4-page
 * mapping of large.txt at 0x10000000 (injection page_alloc with that
 * page's address): mmap must return MAP_FAILED and leave no page of the
 * range mapped or recorded (the two recorded before the failure are
 * removed again). Then the same mmap (no injection left) must work: a
 * stale record would make it overlap.
 * Checkpoint 1: after the failed mmap; the 4 pages unmapped.
 * Checkpoint 2: after the second mmap and a read of its last page; the 4
 *   pages valid, the last present and holding large.txt's bytes. */
#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_PAGES 4

int main(void) {
  msg("begin");
  int fd = open_or_fail("large.txt");
  if (mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 0, fd, 0) != MAP_FAILED)
    fail("mmap of %d pages worked although a page record could not be had",
         MAP_PAGES);
  msg("mmap of %d pages failed", MAP_PAGES);
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  if (mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 0, fd, 0) != MAP_ADDR)
    fail("mmap of the same range again failed: the failed mmap left part "
         "of its mapping behind");
  char last = *(volatile char *)(MAP_ADDR + (MAP_PAGES - 1) * PGSIZE);
  (void)last;
  msg("mmap of the same range again works");
  checkpoint_at(2, (uintptr_t)MAP_ADDR);
  msg("end");
  return 0;
}
