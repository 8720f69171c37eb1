/* Page stamps for the swap programs: the first 8 bytes of page I of a
 * buffer hold swap_stamp(KEY, I), a value that is never 0 (so a page that
 * comes back zero-filled is caught) and differs for every page and KEY (so
 * a page that comes back from the wrong slot, or from another process, is
 * caught too). */
#ifndef VM_SWAPSTAMP_H
#define VM_SWAPSTAMP_H

#include "vmuser.h"

#define SWAP_STAMP_MAGIC 0x5357415000000000ull /* "PAWS" in the top bytes */

static inline uint64_t swap_stamp(uint32_t key, size_t page) {
  return SWAP_STAMP_MAGIC | ((uint64_t)(key & 0xff) << 32) | (uint32_t)page;
}

/* Stamps the PAGES pages at BUF; prints "stamp pages A-B" every
 * REPORT_EVERY pages (never if 0). */
static inline void stamp_pages(char *buf, size_t pages, uint32_t key,
                               size_t report_every) {
  for (size_t i = 0; i < pages; i++) {
    if (report_every != 0 && i % report_every == 0)
      msg("stamp pages %zu-%zu", i, i + report_every - 1);
    *(volatile uint64_t *)(buf + i * PGSIZE) = swap_stamp(key, i);
  }
}

/* Fails unless every page at BUF holds its stamp; prints "pages A-B
 * intact" every REPORT_EVERY pages (never if 0). */
static inline void check_stamps(const char *buf, size_t pages, uint32_t key,
                                size_t report_every) {
  for (size_t i = 0; i < pages; i++) {
    uint64_t got = *(const volatile uint64_t *)(buf + i * PGSIZE);
    if (got != swap_stamp(key, i))
      fail("page %zu holds 0x%016llx, expected 0x%016llx", i,
           (unsigned long long)got, (unsigned long long)swap_stamp(key, i));
    if (report_every != 0 && (i + 1) % report_every == 0)
      msg("pages %zu-%zu intact", i + 1 - report_every, i);
  }
}

#endif
