/* stk-evict: stack pages are anonymous pages like any other: under memory
 * pressure they go to swap and come back with their contents. The
 * scenario caps the user pool at 32 frames. main keeps a 128-page
 * (512 KiB) array on its stack, stamps each page-aligned page of it
 * ("stk-NNNN" at both ends) from the lowest address up, then checks every
 * stamp in the same order.
 * Checkpoint 1: after stamping; probe = the lowest stamped page: not
 *   present but valid, an anon page in swap; the stack is one run of pages
 *   within 1 MB; at least 64 swap slots used.
 * Checkpoint 2: after the check; probe = the highest stamped page:
 *   present, writable, reading "stk-0127"; the stack is one run. */
#include "extra.h"

#define STK_PAGES 128

int main(void) {
  char area[(STK_PAGES + 1) * PGSIZE];
  char *pages = (char *)PAGE_ROUND_UP(area);

  msg("begin");
  stamp_pages_text(pages, STK_PAGES, "stk");
  msg("stamped %d stack pages", STK_PAGES);
  checkpoint_at(1, (uintptr_t)pages);
  check_stamps_text(pages, STK_PAGES, "stk", "after swapping");
  msg("every stack page holds its stamp");
  checkpoint_at(2, (uintptr_t)(pages + (STK_PAGES - 1) * PGSIZE));
  msg("end");
  return 0;
}
