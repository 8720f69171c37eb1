/* Kernel heap. Small blocks (16..2048 bytes, powers of two) are carved
 * from one-page arenas; each arena starts with a header naming its block
 * size, so free() finds it by rounding down. Large blocks are whole pages
 * with the same header. Critical sections run with interrupts off. */
#include "kernel/malloc.h"

#include <stdint.h>

#include "arch/intr.h"
#include "arch/memlayout.h"
#include "kernel/debug.h"
#include "kernel/palloc.h"
#include "lib/list.h"
#include "lib/string.h"

#define ARENA_MAGIC 0x9a548eedU
#define MIN_SHIFT 4
#define CLASS_CNT 8 /* 16 .. 2048 */
#define HEADER_SIZE 32

struct arena {
  uint32_t magic;
  uint32_t block_size; /* 0 for a large block */
  size_t page_cnt;     /* large block: pages */
  size_t free_cnt;     /* small blocks: free blocks in this arena */
};

struct free_block {
  struct list_elem elem;
};

static struct list free_lists[CLASS_CNT];
/* Blocks handed out and not yet freed (the power-off line's heap_blocks). */
static size_t blocks_in_use;

_Static_assert(sizeof(struct arena) <= HEADER_SIZE, "arena header too big");

void malloc_init(void) {
  for (int i = 0; i < CLASS_CNT; i++)
    list_init(&free_lists[i]);
}

static int class_of(size_t size) {
  int c = 0;
  while (((size_t)1 << (c + MIN_SHIFT)) < size)
    c++;
  return c;
}

static void *malloc_large(size_t size) {
  size_t pages = (size + HEADER_SIZE + PGSIZE - 1) / PGSIZE;
  struct arena *a = palloc_get_multiple(0, pages);
  if (a == NULL)
    return NULL;
  *a = (struct arena){ARENA_MAGIC, 0, pages, 0};
  enum intr_level old = intr_disable();
  blocks_in_use++;
  intr_set_level(old);
  return (uint8_t *)a + HEADER_SIZE;
}

/* Adds a fresh arena of class C to its free list; false if out of pages. */
static bool add_arena(int c) {
  struct arena *a = palloc_get_page(0);
  if (a == NULL)
    return false;
  size_t bs = (size_t)1 << (c + MIN_SHIFT);
  size_t first = bs < HEADER_SIZE ? HEADER_SIZE : bs;
  *a = (struct arena){ARENA_MAGIC, (uint32_t)bs, 1, 0};
  for (size_t ofs = first; ofs + bs <= PGSIZE; ofs += bs) {
    list_push_back(&free_lists[c], &((struct free_block *)((uint8_t *)a + ofs))->elem);
    a->free_cnt++;
  }
  return true;
}

void *malloc(size_t size) {
  if (size == 0)
    return NULL;
  if (size > ((size_t)1 << (CLASS_CNT - 1 + MIN_SHIFT)))
    return malloc_large(size);
  int c = class_of(size);
  enum intr_level old = intr_disable();
  void *p = NULL;
  if (!list_empty(&free_lists[c]) || add_arena(c)) {
    struct free_block *b = list_entry(list_pop_front(&free_lists[c]),
                                      struct free_block, elem);
    ((struct arena *)pg_round_down(b))->free_cnt--;
    blocks_in_use++;
    p = b;
  }
  intr_set_level(old);
  return p;
}

void *calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  void *p = malloc(n * size);
  if (p != NULL)
    memset(p, 0, n * size);
  return p;
}

static struct arena *arena_of(void *p) {
  struct arena *a = pg_round_down(p);
  if (a->magic != ARENA_MAGIC)
    PANIC("free/realloc of %p: not a heap block", p);
  return a;
}

void *realloc(void *p, size_t size) {
  if (p == NULL)
    return malloc(size);
  struct arena *a = arena_of(p);
  size_t old = a->block_size ? a->block_size : a->page_cnt * PGSIZE - HEADER_SIZE;
  if (size <= old)
    return p;
  void *q = malloc(size);
  if (q != NULL) {
    memcpy(q, p, old);
    free(p);
  }
  return q;
}

void free(void *p) {
  if (p == NULL)
    return;
  struct arena *a = arena_of(p);
  if (a->block_size == 0) {
    a->magic = 0;
    enum intr_level old = intr_disable();
    blocks_in_use--;
    intr_set_level(old);
    palloc_free_multiple(a, a->page_cnt);
    return;
  }
  int c = class_of(a->block_size);
  memset(p, 0xcc, a->block_size);
  enum intr_level old = intr_disable();
  list_push_back(&free_lists[c], &((struct free_block *)p)->elem);
  a->free_cnt++;
  blocks_in_use--;
  intr_set_level(old);
}

size_t malloc_blocks_in_use(void) { return blocks_in_use; }
