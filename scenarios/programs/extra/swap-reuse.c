/* swap-reuse: swap slots are freed and reused. The scenario caps the user
 * pool at 32 frames and gives a 1 MB swap disk (256 slots). The program
 * makes ROUNDS passes over the 128 pages of a .bss buffer; each pass
 * checks every page's stamp from the pass before and writes a new one
 * ("rNN-NNNN"), so every pass swaps about 100 pages out and in again.
 * That is well over 1000 swap-outs in all: a kernel that does not free a
 * page's slot when it reads the page back (or frees a slot twice) runs
 * out of swap or returns wrong data. At power-off every slot must be free
 * again (the runner checks the power-off line).
 * Checkpoint 1 (hit 1 and every later hit, once per pass): after the
 *   pass; all 128 pages valid and writable; at least 64 slots in use. */
#include "extra.h"

#define REUSE_PAGES 128
#define ROUNDS 12

char reuse_buf[REUSE_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* The stamp tag of pass ROUND. */
static void round_tag(char tag[8], int round) {
  snprintf(tag, 8, "r%02d", round);
}

int main(void) {
  char tag[8], prev[8];
  msg("begin");
  round_tag(tag, 0);
  stamp_pages_text(reuse_buf, REUSE_PAGES, tag);
  checkpoint_at(1, (uintptr_t)reuse_buf);
  for (int round = 1; round < ROUNDS; round++) {
    round_tag(prev, round - 1);
    round_tag(tag, round);
    for (size_t i = 0; i < REUSE_PAGES; i++) {
      char *page = reuse_buf + i * PGSIZE;
      if (!page_has_stamp(page, prev, i))
        fail("pass %d: page %zu does not hold \"%s-%04zu\" (it starts "
             "\"%.15s\")", round, i, prev, i, page);
      stamp_page(page, tag, i);
    }
    checkpoint_at(1, (uintptr_t)reuse_buf);
  }
  msg("%d passes over %d pages: every page came back from swap intact",
      ROUNDS, REUSE_PAGES);
  check_stamps_text(reuse_buf, REUSE_PAGES, tag, "at the end");
  msg("end");
  return 0;
}
