/* Test helpers with the output format of Pintos-KAIST's tests/lib.c:
 * "(NAME) message" lines, "(NAME) FAIL: message" and exit status 1. */
#include "vmuser.h"

/* Weak, so a program may also define `const char *test_name = "x";` the
 * way some Pintos tests do. start.c sets it to argv[0] before main. */
__attribute__((weak)) const char *test_name;

#define MSG_BUFSIZE 1024

/* Prints "(NAME) " PREFIX FMT... "\n" with a single write() so that the
 * line reaches the console in one piece; overlong lines are cut. */
static void vmsg(const char *prefix, const char *fmt, va_list args) {
  static char buf[MSG_BUFSIZE];
  size_t cap = sizeof buf - 1; /* room for the '\n' */
  size_t n = (size_t)snprintf(buf, cap, "(%s) %s",
                              test_name != NULL ? test_name : "?", prefix);
  if (n < cap)
    n += (size_t)vsnprintf(buf + n, cap - n, fmt, args);
  if (n > cap - 1)
    n = cap - 1;
  buf[n++] = '\n';
  write(1, buf, (unsigned)n);
}

void msg(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg("", fmt, ap);
  va_end(ap);
}

void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg("FAIL: ", fmt, ap);
  va_end(ap);
  exit(1);
}
