/* Physical page allocator: a kernel pool and a user pool, each a bitmap of
 * pages. Free pages are split in half like Pintos (the user pool capped by
 * -ul=N). All functions are safe from any thread (short critical sections
 * with interrupts off). */
#include "kernel/palloc.h"

#include "arch/intr.h"
#include "arch/memlayout.h"
#include "kernel/debug.h"
#include "kernel/console.h"
#include "lib/bitmap.h"
#include "lib/string.h"

#define MAX_PAGES (1024 * 1024 * 1024 / 4096) /* 1 GiB of RAM */

struct pool {
  const char *name;
  struct bitmap used;      /* true = allocated */
  uintptr_t base;          /* physical address of page 0 */
  size_t page_cnt, free_cnt;
};

static struct pool kernel_pool, user_pool;
static uint64_t kernel_bits[MAX_PAGES / 64], user_bits[MAX_PAGES / 64];

/* Stable symbols for the harness: user pool size and free count. */
size_t vmcheck_user_pages_total;
size_t vmcheck_user_pages_free;

static void pool_init(struct pool *p, const char *name, uintptr_t base,
                      size_t cnt, uint64_t *bits) {
  p->name = name;
  p->base = base;
  p->page_cnt = p->free_cnt = cnt;
  bitmap_init(&p->used, cnt, bits);
}

void palloc_init(uintptr_t free_start, uintptr_t free_end,
                 size_t user_page_limit) {
  free_start = (uintptr_t)pg_round_up(free_start);
  size_t total = (free_end - free_start) / PGSIZE;
  ASSERT(total <= 2 * MAX_PAGES);
  size_t user = total / 2;
  if (user > user_page_limit)
    user = user_page_limit;
  size_t kernel = total - user;
  pool_init(&kernel_pool, "kernel", free_start, kernel, kernel_bits);
  pool_init(&user_pool, "user", free_start + kernel * PGSIZE, user, user_bits);
  vmcheck_user_pages_total = vmcheck_user_pages_free = user;
  printf("palloc: %zu kernel pages, %zu user pages\n", kernel, user);
}

static void sync_stats(void) { vmcheck_user_pages_free = user_pool.free_cnt; }

void *palloc_get_multiple(enum palloc_flags flags, size_t cnt) {
  struct pool *p = (flags & PAL_USER) ? &user_pool : &kernel_pool;
  if (cnt == 0)
    return NULL;
  enum intr_level old = intr_disable();
  size_t idx = bitmap_scan_and_flip(&p->used, 0, cnt, false);
  if (idx != BITMAP_ERROR) {
    p->free_cnt -= cnt;
    sync_stats();
  }
  intr_set_level(old);
  if (idx == BITMAP_ERROR) {
    if (flags & PAL_ASSERT)
      PANIC("palloc: out of %s pages", p->name);
    return NULL;
  }
  void *pages = ptov(p->base + idx * PGSIZE);
  if (flags & PAL_ZERO)
    memset(pages, 0, cnt * PGSIZE);
  return pages;
}

void *palloc_get_page(enum palloc_flags flags) {
  return palloc_get_multiple(flags, 1);
}

static struct pool *pool_of(const void *page) {
  uintptr_t pa = vtop(page);
  if (pa >= user_pool.base && pa < user_pool.base + user_pool.page_cnt * PGSIZE)
    return &user_pool;
  if (pa >= kernel_pool.base &&
      pa < kernel_pool.base + kernel_pool.page_cnt * PGSIZE)
    return &kernel_pool;
  return NULL;
}

void palloc_free_multiple(void *pages, size_t cnt) {
  if (pages == NULL)
    return;
  ASSERT(pg_ofs(pages) == 0);
  struct pool *p = pool_of(pages);
  if (p == NULL)
    PANIC("palloc_free: %p is not in a pool", pages);
  size_t idx = (vtop(pages) - p->base) / PGSIZE;
#ifndef NDEBUG
  memset(pages, 0xcc, cnt * PGSIZE); /* poison freed pages */
#endif
  enum intr_level old = intr_disable();
  for (size_t i = 0; i < cnt; i++) {
    if (!bitmap_test(&p->used, idx + i))
      PANIC("palloc_free: double free of %s page %p", p->name,
            (void *)((uint8_t *)pages + i * PGSIZE));
    bitmap_set(&p->used, idx + i, false);
  }
  p->free_cnt += cnt;
  sync_stats();
  intr_set_level(old);
}

void palloc_free_page(void *page) { palloc_free_multiple(page, 1); }

size_t palloc_user_pages_total(void) { return user_pool.page_cnt; }
size_t palloc_user_pages_free(void) { return user_pool.free_cnt; }
size_t palloc_kernel_pages_free(void) { return kernel_pool.free_cnt; }
int palloc_is_user_page(const void *page) { return pool_of(page) == &user_pool; }
