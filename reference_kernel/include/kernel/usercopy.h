/* Safe access to user memory from the kernel. A fault that the VM cannot
 * resolve (bad pointer, kernel address) makes these return false instead
 * of crashing: the page-fault handler resumes at the thread's
 * usercopy_fixup address. User memory may be paged in by these calls, so
 * callers must not hold locks that page-fault handling takes. */
#ifndef KERNEL_USERCOPY_H
#define KERNEL_USERCOPY_H

#include <stdbool.h>
#include <stddef.h>

bool copy_from_user(void *dst, const void *usrc, size_t n);
bool copy_to_user(void *udst, const void *src, size_t n);
/* Copies a NUL-terminated string of at most MAX-1 chars; false if the
 * string is not readable or longer. */
bool copy_string_from_user(char *dst, const char *usrc, size_t max);

enum user_string_result {
  USER_STRING_OK,       /* DST holds the whole string */
  USER_STRING_TOO_LONG, /* readable, but no NUL in the first MAX bytes;
                           DST holds the first MAX-1 chars and a NUL */
  USER_STRING_FAULT     /* an address was unreadable or not user space */
};
/* Like copy_string_from_user, but tells a string that is too long apart
 * from one that is unreadable. */
enum user_string_result copy_user_string(char *dst, const char *usrc,
                                         size_t max);

/* True if [UADDR, UADDR+N) lies entirely in user space (it may still be
 * unmapped). */
bool is_user_range(const void *uaddr, size_t n);

#endif
