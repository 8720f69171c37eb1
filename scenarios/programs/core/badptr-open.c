/* badptr-open VARIANT: open() with a bad file name pointer (badptr.h:
 * null, unmapped, kernel, straddle = a name without NUL that runs into an
 * unmapped page). The kernel must end the process: expected
 * "badptr-open: exit(-1)". If open returns, prints "(badptr-open) FAIL:
 * ..." and exits 1. */
#include "badptr.h"

int main(int argc, char **argv) {
  const char *variant = badptr_variant(argc, argv);
  const char *name = bad_pointer(variant, false);
  msg("open(%p), bad file name: %s", (const void *)name, variant);
  int fd = open(name);
  fail("open returned %d; the process should have been killed", fd);
}
