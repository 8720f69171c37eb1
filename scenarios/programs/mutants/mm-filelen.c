/* mm-filelen: mmap and the file's length. Mapping an empty file fails
 * (Pintos: "fails if the file opened as fd has a length of zero bytes");
 * a one-byte file maps, and a mapping longer than the file is zeros past
 * its end, also on pages that lie wholly past it, which have nothing to
 * read. The program creates "empty" (0 bytes) and "one" (1 byte, 'a'),
 * checks that mmap of "empty" returns NULL, maps "one" with a length of
 * three pages, reads page 0 ('a', then zeros) and pages 1 and 2 (zeros:
 * a kernel that reads a byte for them finds none and must not fail),
 * writes 'Z' at byte 0 and 'x' in pages 0 (past the end) and 2, and
 * unmaps. Afterwards "one" holds "Z" and is still one byte long.
 * (Generated mutants mmap-118, `file_len == 1`, and mmap-96, one byte to
 * read on a page past the end.)
 * Checkpoint 1: after reading the three pages. */
#include "../extra/extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_PAGES 3

/* True if N bytes at P are all zero. */
static bool all_zero(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0)
      return false;
  return true;
}

int main(void) {
  msg("begin");
  CHECK(create("empty", 0), "create \"empty\" (0 bytes)");
  int fd = open_or_fail("empty");
  CHECK(mmap(MAP_ADDR, PGSIZE, 1, fd, 0) == MAP_FAILED,
        "mmap of the empty file fails");
  close(fd);

  create_filled("one", 1, 'a');
  fd = open_or_fail("one");
  char *map = mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 1, fd, 0);
  CHECK(map == MAP_ADDR, "mmap 3 pages of the one-byte file");
  CHECK(map[0] == 'a' && all_zero(map + 1, PGSIZE - 1),
        "page 0 holds 'a', then zeros");
  CHECK(all_zero(map + PGSIZE, 2 * PGSIZE),
        "pages 1 and 2, wholly past the end of the file, read zeros");
  checkpoint_at(1, (uintptr_t)map);
  map[0] = 'Z';
  map[1] = 'x';
  map[2 * PGSIZE] = 'x';
  munmap(map);
  msg("munmap");
  char got[2] = {0, 0};
  seek(fd, 0);
  CHECK(read(fd, got, 2) == 1 && got[0] == 'Z',
        "the file reads \"Z\" and is still one byte long");
  close(fd);
  msg("end");
  return 0;
}
