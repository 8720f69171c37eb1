/* lazy-file: file-mapped pages get a frame only when first read. The
 * program maps the 3 pages of small.txt and reads them one at a time;
 * after each read, get_phys_addr must report exactly the pages read so far
 * as loaded. Every page must hold the file's bytes, then zeros after the
 * end of the file.
 * Pintos-KAIST: tests/vm/lazy-file (needs small.txt).
 * Checkpoint 1: after mmap; the 3 pages at 0x10000000 are lazy.
 * Checkpoints 10, 11, 12: right after reading page 0, 1, 2: pages 0..N
 *   present and not writable, the others lazy.
 * Checkpoint 20: after munmap; the 3 pages are unmapped. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

/* Fails unless mapped page I holds bytes of small.txt (SIZE bytes long)
 * and zeros after its end. */
static void check_page(size_t i, size_t size) {
  size_t ofs = i * PGSIZE;
  size_t n = size - ofs < PGSIZE ? size - ofs : PGSIZE;
  size_t bad = text_mismatch("small", ofs, MAP_ADDR + ofs, n);
  if (bad != n)
    fail("mapped byte 0x%zx differs from small.txt", ofs + bad);
  bad = first_nonzero(MAP_ADDR + ofs + n, PGSIZE - n);
  if (bad != PGSIZE - n)
    fail("mapped byte 0x%zx past the end of small.txt is not 0", ofs + n + bad);
}

int main(void) {
  msg("begin");
  int fd = open("small.txt");
  CHECK(fd > 1, "open \"small.txt\"");
  size_t size = (size_t)filesize(fd);
  size_t pages = PAGE_ROUND_UP(size) / PGSIZE;
  msg("small.txt: %zu bytes, %zu pages", size, pages);
  CHECK(mmap(MAP_ADDR, pages * PGSIZE, 0, fd, 0) == MAP_ADDR,
        "mmap \"small.txt\"");
  checkpoint(1);
  for (size_t i = 0; i < pages; i++)
    CHECK(!page_loaded(MAP_ADDR + i * PGSIZE), "page %zu is not loaded", i);

  for (size_t i = 0; i < pages; i++) {
    msg("read page %zu", i);
    check_page(i, size);
    checkpoint(10 + (int)i);
    for (size_t j = 0; j < pages; j++) {
      if (j <= i)
        CHECK(page_loaded(MAP_ADDR + j * PGSIZE), "page %zu is loaded", j);
      else
        CHECK(!page_loaded(MAP_ADDR + j * PGSIZE), "page %zu is not loaded", j);
    }
  }
  munmap(MAP_ADDR);
  checkpoint(20);
  close(fd);
  msg("end");
  return 0;
}
