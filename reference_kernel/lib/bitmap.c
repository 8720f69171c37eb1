/* Bitmap over 64-bit words (see lib/bitmap.h). */
#include "lib/bitmap.h"

#include "kernel/debug.h"
#include "kernel/malloc.h"
#include "lib/string.h"

#define WORD_BITS 64

size_t bitmap_buf_size(size_t bit_cnt) {
  return (bit_cnt + WORD_BITS - 1) / WORD_BITS * sizeof(uint64_t);
}

void bitmap_init(struct bitmap *b, size_t bit_cnt, void *buf) {
  b->bit_cnt = bit_cnt;
  b->bits = buf;
  memset(buf, 0, bitmap_buf_size(bit_cnt));
}

struct bitmap *bitmap_create(size_t bit_cnt) {
  struct bitmap *b = malloc(sizeof *b);
  void *buf = malloc(bitmap_buf_size(bit_cnt) ? bitmap_buf_size(bit_cnt) : 1);
  if (b == NULL || buf == NULL) {
    free(b);
    free(buf);
    return NULL;
  }
  bitmap_init(b, bit_cnt, buf);
  return b;
}

void bitmap_destroy(struct bitmap *b) {
  if (b != NULL) {
    free(b->bits);
    free(b);
  }
}

size_t bitmap_size(const struct bitmap *b) { return b->bit_cnt; }

void bitmap_set(struct bitmap *b, size_t idx, bool value) {
  ASSERT(idx < b->bit_cnt);
  uint64_t mask = (uint64_t)1 << (idx % WORD_BITS);
  if (value)
    b->bits[idx / WORD_BITS] |= mask;
  else
    b->bits[idx / WORD_BITS] &= ~mask;
}

bool bitmap_test(const struct bitmap *b, size_t idx) {
  ASSERT(idx < b->bit_cnt);
  return (b->bits[idx / WORD_BITS] >> (idx % WORD_BITS)) & 1;
}

void bitmap_set_multiple(struct bitmap *b, size_t start, size_t cnt, bool v) {
  ASSERT(start + cnt <= b->bit_cnt);
  for (size_t i = 0; i < cnt; i++)
    bitmap_set(b, start + i, v);
}

size_t bitmap_count(const struct bitmap *b, size_t start, size_t cnt, bool v) {
  ASSERT(start + cnt <= b->bit_cnt);
  size_t n = 0;
  for (size_t i = 0; i < cnt; i++)
    n += bitmap_test(b, start + i) == v;
  return n;
}

/* True if no bit in [start, start+cnt) differs from VALUE. */
static bool all_equal(const struct bitmap *b, size_t start, size_t cnt,
                      bool value) {
  for (size_t i = 0; i < cnt; i++)
    if (bitmap_test(b, start + i) != value)
      return false;
  return true;
}

size_t bitmap_scan_and_flip(struct bitmap *b, size_t start, size_t cnt,
                            bool value) {
  for (size_t i = start; cnt > 0 && i + cnt <= b->bit_cnt; i++) {
    if (cnt == 1 && (b->bits[i / WORD_BITS] ==
                     (value ? 0 : ~(uint64_t)0)) && i % WORD_BITS == 0) {
      i += WORD_BITS - 1; /* skip a whole word with no candidate */
      continue;
    }
    if (all_equal(b, i, cnt, value)) {
      bitmap_set_multiple(b, i, cnt, !value);
      return i;
    }
  }
  return BITMAP_ERROR;
}
