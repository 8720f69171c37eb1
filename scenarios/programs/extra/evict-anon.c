/* evict-anon: anonymous pages under memory pressure go to swap and come
 * back with their contents. The scenario caps the user pool at 32 frames;
 * the program stamps the 128 pages of a .bss buffer ("anon-NNNN" at both
 * ends of page NNNN), so most of them must be swapped out, then checks
 * every stamp, then reads page 0 once more.
 * Checkpoint 1: after stamping; page 0 is not present but valid, an anon
 *   page in swap; the last page is present; at least 64 swap slots used.
 * Checkpoint 2: after checking every stamp; all 128 pages valid.
 * Checkpoint 3: after reading page 0 again; it is present, no longer in
 *   swap, and reads "anon-0000". */
#include "extra.h"

#define ANON_PAGES 128

char anon_buf[ANON_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  stamp_pages_text(anon_buf, ANON_PAGES, "anon");
  msg("stamped %d pages", ANON_PAGES);
  checkpoint_at(1, (uintptr_t)anon_buf);
  check_stamps_text(anon_buf, ANON_PAGES, "anon", "after swapping");
  msg("every page holds its stamp");
  checkpoint_at(2, (uintptr_t)anon_buf);
  CHECK(page_has_stamp(anon_buf, "anon", 0), "page 0 holds its stamp again");
  checkpoint_at(3, (uintptr_t)anon_buf);
  msg("end");
  return 0;
}
