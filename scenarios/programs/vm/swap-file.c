/* swap-file: file-backed pages under memory pressure on an 8 MB machine:
 * the 2 MiB of initialized data inside the program (exeblob.h) and a
 * read-only mapping of the whole of large.txt (about 2 MB) compete for
 * frames; each is read, the other is read again, then the first again, so
 * evicted pages must come back with the right bytes (mapped pages from the
 * file, zeros after its end).
 * Pintos-KAIST: tests/vm/swap-file (8 MB RAM, 10 MB swap disk; needs
 * large.txt).
 * Checkpoint 1: after the first pass over the mapping; its 490 pages at
 *   0x10000000 are valid and not writable.
 * Checkpoint 2: after munmap; those pages are unmapped. */
#include "exeblob.h"
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_LEN PAGE_ROUND_UP(LARGE_TXT_SIZE)

/* Fails unless the mapping reads large.txt and then zeros. */
static void check_mapping(const char *when) {
  size_t bad = text_mismatch("large", 0, MAP_ADDR, LARGE_TXT_SIZE);
  if (bad != LARGE_TXT_SIZE)
    fail("mapped byte 0x%zx differs from large.txt %s", bad, when);
  bad = first_nonzero(MAP_ADDR + LARGE_TXT_SIZE, MAP_LEN - LARGE_TXT_SIZE);
  if (bad != MAP_LEN - LARGE_TXT_SIZE)
    fail("mapped byte 0x%zx past the end of large.txt is not 0 %s",
         LARGE_TXT_SIZE + bad, when);
  msg("mapping reads large.txt %s", when);
}

int main(void) {
  msg("begin");
  exe_blob_check("before mmap");
  int fd = open("large.txt");
  CHECK(fd > 1, "open \"large.txt\"");
  CHECK(mmap(MAP_ADDR, LARGE_TXT_SIZE, 0, fd, 0) == MAP_ADDR,
        "mmap \"large.txt\"");
  check_mapping("on first touch");
  checkpoint(1);
  exe_blob_check("after reading the mapping");
  check_mapping("again");
  munmap(MAP_ADDR);
  checkpoint(2);
  close(fd);
  msg("end");
  return 0;
}
