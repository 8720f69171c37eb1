/* child-qsort: child of page-merge-stk. `child-qsort FILE` reads up to
 * 128 KiB of FILE into a buffer on its stack (so read() itself makes the
 * stack grow by 32 pages), quicksorts the bytes, writes them back over the
 * file and exits with 72. Prints nothing unless a check fails.
 * Pintos-KAIST: tests/vm/child-qsort, step for step (write()'s return
 * value is not checked: a short write shows up in the parent's verify).
 * The quicksort is our own (bytesort.h): a random pivot and a loop over
 * the larger side, so its recursion, and so its stack use below the
 * buffer, is a little shallower than Pintos-KAIST's.
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
  write(fd, buf, (unsigned)size);
  close(fd);
  return 72;
}
