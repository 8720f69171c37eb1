/* Physical page allocator with two pools: kernel pages and user pages (the
 * frames that user virtual pages live in). The user pool can be capped with
 * the kernel argument -ul=N. Pages are returned as direct-map kernel VAs. */
#ifndef KERNEL_PALLOC_H
#define KERNEL_PALLOC_H

#include <stddef.h>
#include <stdint.h>

enum palloc_flags {
  PAL_ASSERT = 1, /* panic on failure */
  PAL_ZERO = 2,   /* zero the page contents */
  PAL_USER = 4    /* allocate from the user pool */
};

/* FREE_START..FREE_END: physical memory available; USER_PAGE_LIMIT caps
 * the user pool (SIZE_MAX: half of the free pages). */
void palloc_init(uintptr_t free_start, uintptr_t free_end,
                 size_t user_page_limit);
void *palloc_get_page(enum palloc_flags);
void *palloc_get_multiple(enum palloc_flags, size_t page_cnt);
void palloc_free_page(void *page);
void palloc_free_multiple(void *pages, size_t page_cnt);

/* Pool statistics, for leak checks. */
size_t palloc_user_pages_total(void);
size_t palloc_user_pages_free(void);
size_t palloc_kernel_pages_free(void);
/* True if kernel VA PAGE lies in the user pool. */
int palloc_is_user_page(const void *page);

#endif
