/* Safe access to user memory (kernel/usercopy.h). Each copy first checks
 * that the whole range lies below USER_TOP, so kernel addresses always
 * fail, then copies with the fault fix-up armed (arch/x86_64/usercopy.S):
 * a fault the VM cannot resolve makes the copy return false. */
#include "kernel/usercopy.h"

#include <stdint.h>

#include "arch/memlayout.h"
#include "kernel/thread.h"

int64_t usercopy_bytes(void *dst, const void *src, size_t n);
int64_t usercopy_string(char *dst, const char *src, size_t max);
extern char usercopy_fault[];

bool is_user_range(const void *uaddr, size_t n) {
  uintptr_t start = (uintptr_t)uaddr;
  return start < USER_TOP && n <= USER_TOP - start;
}

static void fixup_arm(void) {
  thread_current()->usercopy_fixup = (uintptr_t)usercopy_fault;
}

static void fixup_disarm(void) { thread_current()->usercopy_fixup = 0; }

bool copy_from_user(void *dst, const void *usrc, size_t n) {
  if (n == 0)
    return true;
  if (!is_user_range(usrc, n))
    return false;
  fixup_arm();
  int64_t r = usercopy_bytes(dst, usrc, n);
  fixup_disarm();
  return r == 0;
}

bool copy_to_user(void *udst, const void *src, size_t n) {
  if (n == 0)
    return true;
  if (!is_user_range(udst, n))
    return false;
  fixup_arm();
  int64_t r = usercopy_bytes(udst, src, n);
  fixup_disarm();
  return r == 0;
}

enum user_string_result copy_user_string(char *dst, const char *usrc,
                                         size_t max) {
  if (max == 0 || !is_user_range(usrc, 1))
    return USER_STRING_FAULT;
  /* Never read at or above USER_TOP: cap the scan there. */
  size_t room = USER_TOP - (uintptr_t)usrc;
  size_t limit = max < room ? max : room;
  fixup_arm();
  int64_t len = usercopy_string(dst, usrc, limit);
  fixup_disarm();
  if (len < 0)
    return USER_STRING_FAULT;
  if ((size_t)len < limit)
    return USER_STRING_OK;
  /* No NUL within LIMIT bytes: the string goes on into the kernel half
   * (unreadable) or is longer than MAX-1. */
  if (limit < max)
    return USER_STRING_FAULT;
  dst[max - 1] = '\0';
  return USER_STRING_TOO_LONG;
}

bool copy_string_from_user(char *dst, const char *usrc, size_t max) {
  return copy_user_string(dst, usrc, max) == USER_STRING_OK;
}
