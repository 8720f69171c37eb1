/* child-qsort-mm: child of page-merge-mm. `child-qsort-mm FILE` maps a
 * 128 KiB FILE writable at 0x10000000 (33 pages: one more than the file,
 * as Pintos-KAIST does), quicksorts the bytes in place through the mapping
 * and exits with 80 WITHOUT munmap: the kernel must write the dirty pages
 * back to FILE when the process exits. Prints nothing unless a check
 * fails.
 * Pintos-KAIST: tests/vm/child-qsort-mm, step for step (mmap only has to
 * return something other than MAP_FAILED, as there).
 * Checkpoint 401: after sorting; the 32 file pages at 0x10000000 are valid
 *   and writable (reached once per child). */
#include "bytesort.h"
#include "vmtest.h"

#define MAP_ADDR ((uint8_t *)0x10000000)
#define SORT_SIZE (128 * 1024)

int main(int argc, char **argv) {
  if (argc != 2)
    fail("usage: child-qsort-mm FILE");
  int fd = open_or_fail(argv[1]);
  if (mmap(MAP_ADDR, SORT_SIZE + PGSIZE, 1, fd, 0) == MAP_FAILED)
    fail("mmap \"%s\" at 0x10000000 failed", argv[1]);
  quicksort_bytes(MAP_ADDR, SORT_SIZE);
  checkpoint(401);
  return 80;
}
