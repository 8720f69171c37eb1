/* evict-file: clean file-backed pages under memory pressure are dropped,
 * not written anywhere, and read again from the file when touched. The
 * scenario caps the user pool at 32 frames; the program maps 128 pages of
 * large.txt read-only at 0x10000000, reads each page in order (checking
 * its bytes), then reads page 0 again. With no swap disk at all (the
 * `evict-file-noswap` scenario) this must work the same: a clean page
 * needs no swap slot.
 * Afterwards large.txt on the disk is unchanged.
 * Checkpoint 1: after the pass; page 0 not present but valid, a file page
 *   not in swap; the last page present.
 * Checkpoint 2: after reading page 0 again; it is present, clean and equal
 *   to large.txt. */
#include "../vm/textdata.h"

#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_PAGES 128

/* Fails unless mapped page I holds bytes I * PGSIZE.. of large.txt. */
static void check_page(size_t i, const char *when) {
  size_t bad = text_mismatch("large", i * PGSIZE, MAP_ADDR + i * PGSIZE, PGSIZE);
  if (bad != PGSIZE)
    fail("mapped page %zu differs from large.txt at byte %zu %s", i, bad,
         when);
}

int main(void) {
  msg("begin");
  int fd = open_or_fail("large.txt");
  CHECK(mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 0, fd, 0) == MAP_ADDR,
        "mmap %d pages of \"large.txt\" read-only", MAP_PAGES);
  for (size_t i = 0; i < MAP_PAGES; i++)
    check_page(i, "on the first pass");
  msg("every page reads large.txt");
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  check_page(0, "when read again");
  msg("page 0 reads large.txt again");
  checkpoint_at(2, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  close(fd);
  msg("end");
  return 0;
}
