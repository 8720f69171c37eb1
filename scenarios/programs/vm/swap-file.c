/* swap-file: file-backed pages under memory pressure on an 8 MB machine: a
 * read-only mapping of the whole of large.txt (about 2 MB) is compared,
 * page by page, with 2 MiB of initialized data inside the program
 * (exeblob.h), so mapped pages and program pages compete for frames;
 * then the mapping must read zeros after the end of the file.
 * Pintos-KAIST: tests/vm/swap-file (8 MB RAM, 10 MB swap disk; needs
 * large.txt), step for step: one pass. Pintos-KAIST's program compares the
 * mapping with its compiled-in copy of large.txt; ours checks mapped page
 * P against the file's generated text and reads page P of the program
 * data (checking its own pattern) in the same step, so both regions are
 * walked together as a memcmp walks them. The mapping is as long as that
 * copy (the file's size plus one byte) and the zero check starts one
 * byte after the end of the file, as there.
 * Checkpoint 1: after the pass; the mapping's 490 pages at 0x10000000 are
 *   valid and not writable.
 * Checkpoint 2: after munmap; those pages are unmapped. */
#include "exeblob.h"
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_LEN (LARGE_TXT_SIZE + 1)
#define MAP_END PAGE_ROUND_UP(MAP_LEN)

int main(void) {
  void *map;
  int fd;

  msg("begin");
  CHECK((fd = open("large.txt")) > 1, "open \"large.txt\"");
  CHECK((map = mmap(MAP_ADDR, MAP_LEN, 0, fd, 0)) != MAP_FAILED,
        "mmap \"large.txt\"");
  for (size_t ofs = 0; ofs < LARGE_TXT_SIZE; ofs += PGSIZE) {
    size_t n = LARGE_TXT_SIZE - ofs < PGSIZE ? LARGE_TXT_SIZE - ofs : PGSIZE;
    size_t bad = text_mismatch("large", ofs, MAP_ADDR + ofs, n);
    if (bad != n)
      fail("mapped byte 0x%zx differs from large.txt", ofs + bad);
    if (!exe_blob_page_ok(ofs / PGSIZE))
      fail("program data page %zu does not hold its bytes", ofs / PGSIZE);
  }
  msg("mapping reads large.txt");
  size_t bad = first_nonzero(MAP_ADDR + LARGE_TXT_SIZE + 1,
                             MAP_END - (LARGE_TXT_SIZE + 1));
  if (bad != MAP_END - (LARGE_TXT_SIZE + 1))
    fail("mapped byte 0x%zx past the end of large.txt is not 0",
         LARGE_TXT_SIZE + 1 + bad);
  msg("mapping reads zeros after the end of the file");
  checkpoint(1);
  munmap(map);
  checkpoint(2);
  close(fd);
  msg("end");
  return 0;
}
