/* Bad user pointers shared by the badptr-* programs (header only: each
 * program stays one .c file). */
#ifndef BADPTR_H
#define BADPTR_H

#include "vmuser.h"

/* End of the program's memory image (.bss end), from user.ld. */
extern char __vmuser_end[];

#define BADPTR_LENGTH 100   /* bytes passed along with a buffer pointer */
#define STRADDLE_BYTES 8    /* valid bytes before the unmapped page */

/* Returns the pointer VARIANT names:
 *   null      NULL
 *   unmapped  0x20101234: user space, never mapped
 *   kernel    KERN_BASE + 0x1000: mapped, but for the kernel only
 *   straddle  the last STRADDLE_BYTES bytes of the program's last data
 *             page, followed by an unmapped page; the bytes are set to 'x'
 *             (no NUL), so a string there runs into the unmapped page too
 *   code      the program's own text: mapped read-only (only if ALLOW_CODE)
 * Fails with a usage message on any other name. */
static inline void *bad_pointer(const char *variant, bool allow_code) {
  if (strcmp(variant, "null") == 0)
    return NULL;
  if (strcmp(variant, "unmapped") == 0)
    return (void *)0x20101234UL;
  if (strcmp(variant, "kernel") == 0)
    return (void *)(KERN_BASE + 0x1000);
  if (strcmp(variant, "straddle") == 0) {
    uintptr_t end = ((uintptr_t)__vmuser_end + PGSIZE - 1) & ~(PGSIZE - 1UL);
    char *p = (char *)(end - STRADDLE_BYTES);
    memset(p, 'x', STRADDLE_BYTES);
    return p;
  }
  if (allow_code && strcmp(variant, "code") == 0)
    return (void *)(uintptr_t)&bad_pointer;
  fail("unknown variant '%s' (null|unmapped|kernel|straddle%s)", variant,
       allow_code ? "|code" : "");
}

/* The variant named on the command line (argv[1]). */
static inline const char *badptr_variant(int argc, char **argv) {
  if (argc != 2)
    fail("usage: %s VARIANT", argc > 0 ? argv[0] : "badptr");
  return argv[1];
}

#endif
