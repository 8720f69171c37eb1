/* Sparse page writes for the swap programs, as Pintos-KAIST's swap-anon,
 * swap-iter and child-swap do them: the first byte of page I of a buffer
 * gets the value (char) I, nothing else of the page is written, and the
 * check reads that byte back. (Pages whose number is a multiple of 256
 * get a 0; stamps that are never zero and differ per page and per process
 * are the extra programs' business: extra.h, swap-kids.)
 * Used by swap-anon, swap-iter and child-swap. */
#ifndef VM_SWAPSTAMP_H
#define VM_SWAPSTAMP_H

#include "vmuser.h"

/* Writes (char) I into the first byte of each page I of the PAGES pages
 * at BUF, in order; prints "write pages A-B" every REPORT_EVERY pages
 * (never if 0). */
static inline void write_sparse(char *buf, size_t pages, size_t report_every) {
  for (size_t i = 0; i < pages; i++) {
    if (report_every != 0 && i % report_every == 0)
      msg("write pages %zu-%zu", i, i + report_every - 1);
    *(volatile char *)(buf + i * PGSIZE) = (char)i;
  }
}

/* Fails unless the first byte of each page I at BUF is (char) I; reads
 * them in order and prints "pages A-B intact" every REPORT_EVERY pages
 * (never if 0). */
static inline void check_sparse(const char *buf, size_t pages,
                                size_t report_every) {
  for (size_t i = 0; i < pages; i++) {
    char got = *(const volatile char *)(buf + i * PGSIZE);
    if (got != (char)i)
      fail("page %zu holds %d, expected %d", i, got, (char)i);
    if (report_every != 0 && (i + 1) % report_every == 0)
      msg("pages %zu-%zu intact", i + 1 - report_every, i);
  }
}

#endif
