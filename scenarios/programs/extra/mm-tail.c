/* mm-tail: a writable mapping at a nonzero file offset whose last page is
 * partial: the last 8238 bytes of large.txt (from offset 487 * PGSIZE) on
 * 3 pages at 0x10000000; the last page has 46 file bytes. The bytes after
 * the end of the file read as zeros; writes there are never written back
 * (the file does not grow); a write inside the file is written back at
 * munmap at its own offset. The program writes MARK at mapped offset
 * PGSIZE + 100 (file offset 1998948) and fills the last page after the
 * end of the file with '#'; after munmap, read() and a second (read-only)
 * mapping must show the mark and zeros after the end of the file.
 * Afterwards large.txt on the disk has its size and bytes except MARK.
 * Checkpoint 1: after mmap; 3 pages lazy, writable in the SPT.
 * Checkpoint 2: after reading; 3 pages present, clean, equal to large.txt
 *   from offset 1994752 then zeros.
 * Checkpoint 3: after the writes; pages 1 and 2 present and dirty, page 0
 *   clean.
 * Checkpoint 4: after munmap; the 3 pages unmapped.
 * Checkpoint 5: second mapping read; page 2 holds large.txt's last 46
 *   bytes then zeros, page 1 holds MARK. */
#include "../vm/textdata.h"

#include "extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_OFS (487 * PGSIZE)
#define MAP_LEN (LARGE_TXT_SIZE - MAP_OFS) /* 8238 */
#define MAP_PAGES 3
#define MARK "mm-tail was here"
#define MARK_LEN (sizeof MARK - 1)
#define MARK_AT (PGSIZE + 100)

/* Fails unless the mapping reads large.txt from MAP_OFS, with MARK at
 * MARK_AT if MARKED, and zeros after the end of the file. */
static void check_mapping(bool marked, const char *when) {
  for (size_t ofs = 0; ofs < MAP_LEN; ofs++) {
    bool in_mark = marked && ofs >= MARK_AT && ofs < MARK_AT + MARK_LEN;
    char want;
    if (in_mark)
      want = MARK[ofs - MARK_AT];
    else
      text_fill("large", MAP_OFS + ofs, &want, 1);
    if (MAP_ADDR[ofs] != want)
      fail("mapped byte 0x%zx is 0x%02x, expected 0x%02x %s", ofs,
           MAP_ADDR[ofs] & 0xff, want & 0xff, when);
  }
  size_t bad = first_nonzero(MAP_ADDR + MAP_LEN, MAP_PAGES * PGSIZE - MAP_LEN);
  if (bad != MAP_PAGES * PGSIZE - MAP_LEN)
    fail("mapped byte 0x%zx past the end of the file is not 0 %s",
         MAP_LEN + bad, when);
  msg("mapping reads large.txt, then zeros, %s", when);
}

int main(void) {
  msg("begin");
  int fd = open_or_fail("large.txt");
  CHECK(mmap(MAP_ADDR, MAP_LEN, 1, fd, MAP_OFS) == MAP_ADDR,
        "mmap the last %d bytes of \"large.txt\" writable", (int)MAP_LEN);
  checkpoint_at(1, (uintptr_t)MAP_ADDR);
  check_mapping(false, "on first touch");
  checkpoint_at(2, (uintptr_t)MAP_ADDR);

  memcpy(MAP_ADDR + MARK_AT, MARK, MARK_LEN);
  memset(MAP_ADDR + MAP_LEN, '#', MAP_PAGES * PGSIZE - MAP_LEN);
  msg("write a mark, and '#' after the end of the file");
  checkpoint_at(3, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  msg("munmap");
  checkpoint_at(4, (uintptr_t)MAP_ADDR);

  CHECK(filesize(fd) == LARGE_TXT_SIZE, "\"large.txt\" keeps its size");
  char got[MARK_LEN];
  read_file_at("large.txt", MAP_OFS + MARK_AT, got, MARK_LEN);
  CHECK(memcmp(got, MARK, MARK_LEN) == 0, "read() sees the mark");
  CHECK(mmap(MAP_ADDR, MAP_LEN, 0, fd, MAP_OFS) == MAP_ADDR,
        "mmap the same range again, read-only");
  check_mapping(true, "after munmap");
  checkpoint_at(5, (uintptr_t)MAP_ADDR);
  munmap(MAP_ADDR);
  close(fd);
  msg("end");
  return 0;
}
