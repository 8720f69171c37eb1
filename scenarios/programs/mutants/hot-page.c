/* hot-page: the clock gives a page that is used all the time a second
 * chance. The scenario caps the user pool (24 frames, with swap). The
 * program writes HOT_PAGE's page once and records its frame (int 0x42),
 * then streams through STREAM_PAGES fresh .bss pages, reading the hot
 * page between every two of them. Every fault evicts one frame; the hot
 * page is accessed between every two sweeps of the hand, so a clock that
 * clears and tests the accessed bit never picks it, and its frame stays
 * the same throughout. A kernel that ignores the accessed bit (FIFO)
 * evicts it within one round of the pool: the program prints which
 * stream page moved it.
 * Checkpoint 1: after the stream; the hot page present. */
#include "../extra/extra.h"

#define STREAM_PAGES 96

char hot_buf[PGSIZE] __attribute__((aligned(PGSIZE)));
char stream_buf[STREAM_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  hot_buf[0] = 'H';
  uint64_t frame = get_phys_addr(hot_buf);
  if (frame == 0)
    fail("the hot page has no frame after it was written");
  volatile char sink = 0;
  for (size_t i = 0; i < STREAM_PAGES; i++) {
    stream_buf[i * PGSIZE] = (char)i;
    sink += hot_buf[0];
    if (get_phys_addr(hot_buf) != frame)
      fail("the hot page, read between every two faults, was evicted "
           "while streaming page %zu (no second chance?)", i);
  }
  (void)sink;
  checkpoint_at(1, (uintptr_t)hot_buf);
  msg("the hot page kept its frame through %d faults", STREAM_PAGES);
  msg("end");
  return 0;
}
