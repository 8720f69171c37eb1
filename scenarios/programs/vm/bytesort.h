/* Byte sorting for the page-merge children: a quicksort (many passes and
 * a recursion whose frames live on the stack, used by child-qsort and
 * child-qsort-mm) and a counting sort over a local table (child-sort
 * counts into .bss instead, as Pintos-KAIST's does). */
#ifndef VM_BYTESORT_H
#define VM_BYTESORT_H

#include "vmuser.h"

/* Sorts the N bytes at BUF into nondecreasing order by counting them. */
static inline void counting_sort_bytes(uint8_t *buf, size_t n) {
  size_t count[256] = {0};
  for (size_t i = 0; i < n; i++)
    count[buf[i]]++;
  size_t out = 0;
  for (int v = 0; v < 256; v++)
    for (size_t c = count[v]; c > 0; c--)
      buf[out++] = (uint8_t)v;
}

/* True if the N bytes at BUF are in nondecreasing order. */
static inline bool bytes_sorted(const uint8_t *buf, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (buf[i - 1] > buf[i])
      return false;
  return true;
}

/* Three-way partition of the N bytes at BUF around PIVOT: afterwards
 * BUF[0, *LT) < PIVOT, BUF[*LT, *GT) == PIVOT, BUF[*GT, N) > PIVOT. */
static inline void partition_bytes(uint8_t *buf, size_t n, uint8_t pivot,
                                   size_t *lt, size_t *gt) {
  size_t lo = 0, i = 0, hi = n;
  while (i < hi) {
    uint8_t v = buf[i];
    if (v < pivot) {
      buf[i++] = buf[lo];
      buf[lo++] = v;
    } else if (v > pivot) {
      buf[i] = buf[--hi];
      buf[hi] = v;
    } else {
      i++;
    }
  }
  *lt = lo;
  *gt = hi;
}

/* Sorts the N bytes at BUF with quicksort: a random pivot (random_ulong),
 * recursion into the smaller side and a loop over the larger one, so the
 * recursion depth stays logarithmic. */
static inline void quicksort_bytes(uint8_t *buf, size_t n) {
  while (n > 1 && !bytes_sorted(buf, n)) {
    size_t lt, gt;
    partition_bytes(buf, n, buf[random_ulong() % n], &lt, &gt);
    if (lt < n - gt) {
      quicksort_bytes(buf, lt);
      buf += gt;
      n -= gt;
    } else {
      quicksort_bytes(buf + gt, n - gt);
      n = lt;
    }
  }
}

#endif
