/* badptr-exec VARIANT: exec() with a bad command-line pointer (badptr.h:
 * null, unmapped, kernel, straddle = a string without NUL that runs into
 * an unmapped page). The kernel must end the process: expected
 * "badptr-exec: exit(-1)". If exec returns, prints "(badptr-exec) FAIL:
 * ..." and exits 1. */
#include "badptr.h"

int main(int argc, char **argv) {
  const char *variant = badptr_variant(argc, argv);
  const char *cmdline = bad_pointer(variant, false);
  msg("exec(%p), bad command line: %s", (const void *)cmdline, variant);
  int r = exec(cmdline);
  fail("exec returned %d; the process should have been killed", r);
}
