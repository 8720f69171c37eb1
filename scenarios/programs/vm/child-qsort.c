/* child-qsort: child of page-merge-stk. `child-qsort FILE` reads up to
 * 128 KiB of FILE into a buffer on its stack (so read() itself makes the
 * stack grow by 32 pages), quicksorts the bytes, writes them back over the
 * file and exits with 72. Prints nothing unless a check fails.
 * Pintos-KAIST: tests/vm/child-qsort.
 * Checkpoint 301: after sorting; the 32 pages from probe (the buffer) are
 *   valid and writable (reached once per child). */
#include "bytesort.h"
#include "vmtest.h"

#define SORT_MAX (128 * 1024)

int main(int argc, char **argv) {
  uint8_t buf[SORT_MAX];

  if (argc != 2)
    fail("usage: child-qsort FILE");
  int fd = open_or_fail(argv[1]);
  int size = read(fd, buf, sizeof buf);
  if (size < 0)
    fail("read \"%s\" returned %d", argv[1], size);
  quicksort_bytes(buf, (size_t)size);
  vmcheck_probe = (uintptr_t)buf;
  checkpoint(301);
  seek(fd, 0);
  if (write(fd, buf, (unsigned)size) != size)
    fail("write back to \"%s\" failed", argv[1]);
  close(fd);
  return 72;
}
