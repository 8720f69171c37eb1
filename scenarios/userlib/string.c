/* Memory and string functions. Also the targets of the memcpy/memset/
 * memmove/memcmp calls GCC emits on its own (struct copies, zeroing);
 * built with -fno-tree-loop-distribute-patterns so that these loops are
 * never turned back into calls to themselves. */
#include "vmuser.h"

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n-- > 0)
      *d++ = *s++;
  } else if (d > s) {
    d += n;
    s += n;
    while (n-- > 0)
      *--d = *--s;
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n-- > 0)
    *d++ = (unsigned char)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n > 0; n--, x++, y++)
    if (*x != *y)
      return *x < *y ? -1 : 1;
  return 0;
}

size_t strlen(const char *s) {
  const char *p = s;
  while (*p != '\0')
    p++;
  return (size_t)(p - s);
}

int strcmp(const char *a, const char *b) {
  const unsigned char *x = (const unsigned char *)a;
  const unsigned char *y = (const unsigned char *)b;
  while (*x != '\0' && *x == *y)
    x++, y++;
  return *x < *y ? -1 : *x > *y;
}

int strncmp(const char *a, const char *b, size_t n) {
  const unsigned char *x = (const unsigned char *)a;
  const unsigned char *y = (const unsigned char *)b;
  for (; n > 0; n--, x++, y++) {
    if (*x != *y)
      return *x < *y ? -1 : 1;
    if (*x == '\0')
      return 0;
  }
  return 0;
}

/* First occurrence of C in S; the terminator counts (strchr(s, 0) is the
 * end of S). */
char *strchr(const char *s, int c) {
  for (;; s++) {
    if (*s == (char)c)
      return (char *)s;
    if (*s == '\0')
      return NULL;
  }
}

/* Copies at most SIZE - 1 bytes and always terminates (if SIZE > 0);
 * returns strlen(SRC), so a result >= SIZE means truncation. */
size_t strlcpy(char *dst, const char *src, size_t size) {
  size_t len = strlen(src);
  if (size > 0) {
    size_t n = len < size - 1 ? len : size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
  }
  return len;
}

/* Decimal integer with optional leading spaces and sign; stops at the
 * first non-digit. */
int atoi(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  bool negative = *s == '-';
  if (*s == '-' || *s == '+')
    s++;
  unsigned value = 0; /* unsigned: wraps instead of overflowing */
  for (; *s >= '0' && *s <= '9'; s++)
    value = value * 10 + (unsigned)(*s - '0');
  return (int)(negative ? 0u - value : value);
}
