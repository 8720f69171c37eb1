/* badptr-read VARIANT: read() from a file into a bad buffer (badptr.h:
 * null, unmapped, kernel, straddle, code = the program's read-only text).
 * The kernel must end the process: expected "badptr-read: exit(-1)".
 * If read returns, prints "(badptr-read) FAIL: ..." and exits 1. */
#include "badptr.h"

int main(int argc, char **argv) {
  const char *variant = badptr_variant(argc, argv);
  void *buf = bad_pointer(variant, true);
  int fd = open(argv[0]); /* the program's own file: always on the disk */
  if (fd < 2)
    fail("open(\"%s\") = %d", argv[0], fd);
  msg("read(%d, %p, %d), bad buffer: %s", fd, buf, BADPTR_LENGTH, variant);
  int n = read(fd, buf, BADPTR_LENGTH);
  fail("read returned %d; the process should have been killed", n);
}
