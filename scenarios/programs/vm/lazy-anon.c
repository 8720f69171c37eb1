/* lazy-anon: zero-filled (.bss) pages get a frame only when first
 * touched. Three pages are touched one at a time (page I gets the byte
 * value I, so page 0 is written a 0); after each touch, get_phys_addr must
 * report exactly the touched pages as loaded and the touched pages must
 * hold their values.
 * Pintos-KAIST: tests/vm/lazy-anon, step for step: the same calls, the
 * same stores and the same checks. Only the buffer is page-aligned here,
 * so that each touch maps exactly one page of it.
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
  msg("initial pages status");
  for (int i = 0; i < LAZY_PAGES; i++)
    CHECK(!page_loaded((const void *)page_at(i)), "page %d is not loaded", i);
  checkpoint(1);

  for (int i = 0; i < LAZY_PAGES; i++) {
    msg("touch page %d", i);
    *page_at(i) = (char)i;
    checkpoint(10 + i);
    for (int j = 0; j < LAZY_PAGES; j++) {
      if (j <= i) {
        CHECK(page_loaded((const void *)page_at(j)), "page %d is loaded", j);
        CHECK(*page_at(j) == (char)j, "page %d holds %d", j, j);
      } else {
        CHECK(!page_loaded((const void *)page_at(j)), "page %d is not loaded",
              j);
      }
    }
  }
  msg("end");
  return 0;
}
