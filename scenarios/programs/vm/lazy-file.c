/* lazy-file: file-mapped pages get a frame only when first read. The
 * program maps the 3 pages of small.txt read-only and reads them one at a
 * time; after each read, get_phys_addr must report exactly the pages read
 * so far as loaded.
 * Pintos-KAIST: tests/vm/lazy-file (needs small.txt), step for step: the
 * mapping length is the file size rounded up to pages, known in advance
 * (no filesize call), and only the first 10 bytes of each page are
 * compared with the file. Pintos-KAIST's program compares them with its
 * compiled-in copy of small.txt, so each step also reads one page of its
 * own data segment: here the same page of a 3-page block of program data
 * (exeblob.h). The whole contents of each page, zeros after the end of
 * the file included, are checked by the scenario at the checkpoints.
 * Checkpoint 1: after mmap; the 3 pages at 0x10000000 are lazy.
 * Checkpoints 10, 11, 12: right after reading page 0, 1, 2: pages 0..N
 *   present and not writable (holding small.txt's bytes, then zeros), the
 *   others lazy.
 * Checkpoint 20: after munmap; the 3 pages are unmapped. */
#define EXE_BLOB_SIZE (3 * 4096)
#include "exeblob.h"
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)
#define COMPARE_LEN 10

int main(void) {
  size_t pages = PAGE_ROUND_UP(SMALL_TXT_SIZE) / PGSIZE;
  void *map;
  int fd;

  msg("begin");
  CHECK((fd = open("small.txt")) > 1, "open \"small.txt\"");
  msg("small.txt: %d bytes, %zu pages", SMALL_TXT_SIZE, pages);
  CHECK((map = mmap(MAP_ADDR, pages * PGSIZE, 0, fd, 0)) != MAP_FAILED,
        "mmap \"small.txt\"");
  checkpoint(1);
  for (size_t i = 0; i < pages; i++)
    CHECK(!page_loaded(MAP_ADDR + i * PGSIZE), "page %zu is not loaded", i);

  for (size_t i = 0; i < pages; i++) {
    msg("read page %zu", i);
    if (text_mismatch("small", i * PGSIZE, MAP_ADDR + i * PGSIZE,
                      COMPARE_LEN) != COMPARE_LEN ||
        !exe_blob_page_ok(i))
      fail("page %zu of the mapping does not start with small.txt's bytes",
           i);
    checkpoint(10 + (int)i);
    for (size_t j = 0; j < pages; j++) {
      if (j <= i)
        CHECK(page_loaded(MAP_ADDR + j * PGSIZE), "page %zu is loaded", j);
      else
        CHECK(!page_loaded(MAP_ADDR + j * PGSIZE), "page %zu is not loaded", j);
    }
  }
  munmap(map);
  checkpoint(20);
  close(fd);
  msg("end");
  return 0;
}
