/* child-sort: child of page-merge-seq and page-merge-par. `child-sort
 * FILE` reads up to 128 KiB of FILE into a .bss buffer, sorts the bytes
 * with a counting sort, writes them back over the file and exits with 123.
 * Prints nothing unless a check fails.
 * Pintos-KAIST: tests/vm/child-sort. */
#include "bytesort.h"
#include "vmtest.h"

#define SORT_MAX (128 * 1024)

uint8_t sort_buf[SORT_MAX] __attribute__((aligned(PGSIZE)));

int main(int argc, char **argv) {
  if (argc != 2)
    fail("usage: child-sort FILE");
  int fd = open_or_fail(argv[1]);
  int size = read(fd, sort_buf, sizeof sort_buf);
  if (size < 0)
    fail("read \"%s\" returned %d", argv[1], size);
  counting_sort_bytes(sort_buf, (size_t)size);
  seek(fd, 0);
  if (write(fd, sort_buf, (unsigned)size) != size)
    fail("write back to \"%s\" failed", argv[1]);
  close(fd);
  return 123;
}
