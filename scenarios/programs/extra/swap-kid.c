/* swap-kid: child of swap-kids. `swap-kid K` stamps the 256 pages of a
 * 1 MiB .bss buffer with "kidK-NNNN" (at both ends of page NNNN), checks
 * every stamp and exits 0; on a wrong page it prints what the page holds
 * and exits 1.
 * Checkpoint 1: after stamping; the 256 pages of kid_buf are valid and
 *   writable, at least 128 pages are in swap (reached once per child). */
#include "extra.h"

#define KID_PAGES 256

char kid_buf[KID_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

int main(int argc, char **argv) {
  char tag[12];

  if (argc != 2)
    fail("usage: swap-kid K");
  snprintf(tag, sizeof tag, "kid%s", argv[1]);
  stamp_pages_text(kid_buf, KID_PAGES, tag);
  checkpoint_at(1, (uintptr_t)kid_buf);
  check_stamps_text(kid_buf, KID_PAGES, tag, "after all ten children ran");
  return 0;
}
