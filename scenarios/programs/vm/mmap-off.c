/* mmap-off: a mapping at a nonzero file offset: page 1 (offset 0x1000) of
 * large.txt, writable. The program checks the mapped bytes, zeroes the
 * page through the mapping and unmaps it; read() must then show page 1 of
 * the file zeroed and pages 0 and 2 unchanged.
 * Pintos-KAIST: tests/vm/mmap-off (needs large.txt). Afterwards large.txt
 * on the disk is the original with bytes 0x1000..0x1fff zeroed.
 * Checkpoint 1: after mmap and close; 0x10000000 lazy and writable.
 * Checkpoint 2: after zeroing; present, writable and dirty.
 * Checkpoint 3: after munmap; unmapped. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

static char page[PGSIZE];

/* Reads page NO of large.txt from FD (the next page in file order) into
 * `page`, or fails. */
static void read_page(int fd, int no) {
  CHECK(read(fd, page, PGSIZE) == PGSIZE, "read page %d of \"large.txt\"", no);
}

int main(void) {
  msg("begin");
  int fd = open("large.txt");
  CHECK(fd > 1, "open \"large.txt\"");
  CHECK(mmap(MAP_ADDR, PGSIZE, 1, fd, 0x1000) == MAP_ADDR,
        "mmap \"large.txt\" from offset 0x1000");
  close(fd);
  checkpoint(1);
  size_t bad = text_mismatch("large", 0x1000, MAP_ADDR, PGSIZE);
  if (bad != PGSIZE)
    fail("mapped byte %zu differs from byte 0x%zx of large.txt", bad,
         0x1000 + bad);
  msg("mapping reads bytes 0x1000-0x1fff of large.txt");
  memset(MAP_ADDR, 0, PGSIZE);
  msg("zero the mapped page");
  checkpoint(2);
  munmap(MAP_ADDR);
  msg("munmap");
  checkpoint(3);

  fd = open("large.txt");
  CHECK(fd > 1, "open \"large.txt\" again");
  read_page(fd, 0);
  CHECK(text_mismatch("large", 0, page, PGSIZE) == PGSIZE,
        "page 0 is unchanged");
  read_page(fd, 1);
  CHECK(first_nonzero(page, PGSIZE) == PGSIZE, "page 1 is all zeros");
  read_page(fd, 2);
  CHECK(text_mismatch("large", 0x2000, page, PGSIZE) == PGSIZE,
        "page 2 is unchanged");
  close(fd);
  msg("end");
  return 0;
}
