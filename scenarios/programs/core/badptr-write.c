/* badptr-write VARIANT: write() to the console from a bad buffer
 * (badptr.h: null, unmapped, kernel, straddle). The kernel must end the
 * process: expected "badptr-write: exit(-1)". If write returns, prints
 * "(badptr-write) FAIL: ..." and exits 1. */
#include "badptr.h"

int main(int argc, char **argv) {
  const char *variant = badptr_variant(argc, argv);
  void *buf = bad_pointer(variant, false);
  msg("write(1, %p, %d), bad buffer: %s", buf, BADPTR_LENGTH, variant);
  int n = write(1, buf, BADPTR_LENGTH);
  fail("write returned %d; the process should have been killed", n);
}
