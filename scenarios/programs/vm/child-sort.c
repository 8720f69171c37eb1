/* child-sort: child of page-merge-seq and page-merge-par. `child-sort
 * FILE` reads up to 128 KiB of FILE into a never-touched .bss buffer (so
 * read() itself faults on lazy .bss pages), sorts the bytes with a
 * counting sort whose counters are in .bss too, writes them back over the
 * file and exits with 123. Prints nothing unless a check fails.
 * Pintos-KAIST: tests/vm/child-sort, step for step (write()'s return
 * value is not checked: a short write shows up in the parent's verify). */
#include "vmtest.h"

#define SORT_MAX (128 * 1024)

uint8_t sort_buf[SORT_MAX] __attribute__((aligned(PGSIZE)));
size_t sort_histogram[256];

int main(int argc, char **argv) {
  if (argc != 2)
    fail("usage: child-sort FILE");
  int fd = open_or_fail(argv[1]);
  int size = read(fd, sort_buf, sizeof sort_buf);
  if (size < 0)
    fail("read \"%s\" returned %d", argv[1], size);
  for (int i = 0; i < size; i++)
    sort_histogram[sort_buf[i]]++;
  uint8_t *p = sort_buf;
  for (int v = 0; v < 256; v++)
    for (size_t n = sort_histogram[v]; n > 0; n--)
      *p++ = (uint8_t)v;
  seek(fd, 0);
  write(fd, sort_buf, (unsigned)size);
  close(fd);
  return 123;
}
