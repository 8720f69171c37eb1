/* fault-pf VARIANT: an illegal memory access from user mode.
 *   null-read, null-write       address 0
 *   kernel-read, kernel-write   KERN_BASE + 0x1000 (present, kernel-only)
 *   unmapped-read               0x20101234 (never mapped)
 *   code-write                  the program's own (read-only) text
 * The kernel must end the process: expected "fault-pf: exit(-1)", never a
 * kernel panic. If the access completes, prints "(fault-pf) FAIL: ..." and
 * exits 1. */
#include "vmuser.h"

struct access {
  const char *name;
  uintptr_t address;
  bool write;
};

static const struct access accesses[] = {
    {"null-read", 0, false},
    {"null-write", 0, true},
    {"kernel-read", KERN_BASE + 0x1000, false},
    {"kernel-write", KERN_BASE + 0x1000, true},
    {"unmapped-read", 0x20101234UL, false},
    {"code-write", 0, true}, /* address filled in by main */
};

int main(int argc, char **argv) {
  if (argc != 2)
    fail("usage: fault-pf null-read|null-write|kernel-read|kernel-write|"
         "unmapped-read|code-write");
  for (size_t i = 0; i < sizeof accesses / sizeof accesses[0]; i++) {
    struct access a = accesses[i];
    if (strcmp(argv[1], a.name) != 0)
      continue;
    if (strcmp(a.name, "code-write") == 0)
      a.address = (uintptr_t)&main;
    __asm__("" : "+r"(a.address)); /* hide the value from the optimizer */
    volatile int *p = (volatile int *)a.address;
    msg("%s %p", a.write ? "writing" : "reading", (void *)p);
    if (a.write)
      *p = 0x12345678;
    else
      msg("read 0x%x", *p);
    fail("%s at %p did not kill the process", a.name, (void *)p);
  }
  fail("unknown variant '%s'", argv[1]);
}
