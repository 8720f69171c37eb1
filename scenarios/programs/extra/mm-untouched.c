/* mm-untouched: munmap of a writable mapping that was never touched. No
 * page of it was ever loaded, so munmap must write nothing back and leave
 * neither a PTE nor an SPT entry; the address range can then be mapped
 * again. 16 pages of large.txt are mapped at 0x10000000, unmapped without
 * a touch, then mapped again (read-only) and page 0 is read.
 * Afterwards large.txt on the disk is unchanged.
 * Checkpoint 1: after mmap; 16 pages lazy, writable in the SPT.
 * Checkpoint 2: after munmap; the 16 pages unmapped.
 * Checkpoint 3: after mapping again and reading page 0; page 0 present,
 *   clean and equal to large.txt; pages 1..15 lazy. */
#include "../vm/textdata.h"

#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_PAGES 16

int main(void) {
  msg("begin");
  int fd = open_or_fail("large.txt");
  CHECK(mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 1, fd, 0) == MAP_ADDR,
        "mmap %d pages of \"large.txt\" writable", MAP_PAGES);
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  msg("munmap without touching the mapping");
  checkpoint_at(2, (uintptr_t)MAP_ADDR);
  for (int i = 0; i < MAP_PAGES; i++)
    if (page_loaded(MAP_ADDR + i * PGSIZE))
      fail("page %d has a frame after munmap", i);
  msg("no page has a frame");

  CHECK(mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 0, fd, 0) == MAP_ADDR,
        "mmap the same range again, read-only");
  CHECK(text_mismatch("large", 0, MAP_ADDR, PGSIZE) == PGSIZE,
        "page 0 reads large.txt");
  checkpoint_at(3, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  close(fd);
  msg("end");
  return 0;
}
