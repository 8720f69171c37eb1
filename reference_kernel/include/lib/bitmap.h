/* Fixed-size bitmap over caller-provided storage (lib/bitmap.c). */
#ifndef LIB_BITMAP_H
#define LIB_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BITMAP_ERROR SIZE_MAX

struct bitmap {
  size_t bit_cnt;
  uint64_t *bits;
};

/* Bytes of storage needed for BIT_CNT bits. */
size_t bitmap_buf_size(size_t bit_cnt);
/* Initializes B over BUF (bitmap_buf_size bytes) with all bits false. */
void bitmap_init(struct bitmap *b, size_t bit_cnt, void *buf);
/* Heap-allocated bitmap, all false; NULL if out of memory. */
struct bitmap *bitmap_create(size_t bit_cnt);
void bitmap_destroy(struct bitmap *);
size_t bitmap_size(const struct bitmap *);
void bitmap_set(struct bitmap *, size_t idx, bool value);
void bitmap_set_multiple(struct bitmap *, size_t start, size_t cnt, bool v);
bool bitmap_test(const struct bitmap *, size_t idx);
size_t bitmap_count(const struct bitmap *, size_t start, size_t cnt, bool v);
/* Finds CNT consecutive bits equal to VALUE, flips them, returns the first
 * index; BITMAP_ERROR if none. */
size_t bitmap_scan_and_flip(struct bitmap *, size_t start, size_t cnt,
                            bool value);

#endif
