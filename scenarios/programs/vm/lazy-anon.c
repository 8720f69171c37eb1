/* lazy-anon: zero-filled (.bss) pages get a frame only when first
 * touched. Three page-aligned pages are touched one at a time; after each
 * touch, get_phys_addr must report exactly the touched pages as loaded and
 * the touched pages must keep their values.
 * Pintos-KAIST: tests/vm/lazy-anon.
 * Checkpoint 1: before any touch; the 3 pages of lazy_anon_buf are lazy.
 * Checkpoints 10, 11, 12: right after touching page 0, 1, 2: pages 0..N
 *   present and writable, the others lazy. */
#include "vmtest.h"

#define LAZY_PAGES 3

char lazy_anon_buf[LAZY_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* Address of page I of the buffer. */
static volatile char *page_at(int i) { return &lazy_anon_buf[i * PGSIZE]; }

int main(void) {
  msg("begin");
  for (int i = 0; i < LAZY_PAGES; i++)
    CHECK(!page_loaded((const void *)page_at(i)), "page %d is not loaded", i);
  checkpoint(1);

  for (int i = 0; i < LAZY_PAGES; i++) {
    msg("touch page %d", i);
    *page_at(i) = (char)(i + 1);
    checkpoint(10 + i);
    for (int j = 0; j < LAZY_PAGES; j++) {
      if (j <= i) {
        CHECK(page_loaded((const void *)page_at(j)), "page %d is loaded", j);
        CHECK(*page_at(j) == (char)(j + 1), "page %d holds %d", j, j + 1);
      } else {
        CHECK(!page_loaded((const void *)page_at(j)), "page %d is not loaded",
              j);
      }
    }
  }
  msg("end");
  return 0;
}
