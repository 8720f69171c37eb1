/* mm-exitdirty: a process ends with dirty pages in two mappings of one
 * file at different file offsets; the kernel must write each dirty page
 * back at its own offset, and leave clean and never-loaded pages alone.
 * The program creates "exitmap.dat" (4 pages of '.'), maps pages 0-1 at
 * A = 0x10000000 (offset 0) and pages 2-3 at B = 0x20000000 (offset
 * 8192), writable. It writes MARK_A at A + 100 (file offset 100) and
 * MARK_B at B + PGSIZE + 300 (file offset 12588), reads A's page 1 and
 * leaves B's page 0 untouched, then ends without munmap:
 *   mm-exitdirty exit    exit(0)
 *   mm-exitdirty fault   a store to address 0: killed, exit(-1); the
 *                        write-back must happen on this path too
 * Afterwards exitmap.dat holds the two marks at those offsets and '.'
 * everywhere else (16384 bytes).
 * Checkpoint 1: before the end; A's page 0 and B's page 1 present and
 *   dirty; A's page 1 present and clean; B's page 0 lazy. */
#include "extra.h"

#define MAP_A ((char *)0x10000000)
#define MAP_B ((char *)0x20000000)
#define FILE_PAGES 4
#define MARK_A "mm-exitdirty: mapping A, page 0"
#define MARK_B "mm-exitdirty: mapping B, page 1"

int main(int argc, char **argv) {
  bool by_fault = argc > 1 && strcmp(argv[1], "fault") == 0;
  msg("begin");
  create_filled("exitmap.dat", FILE_PAGES * PGSIZE, '.');
  int fd = open_or_fail("exitmap.dat");
  CHECK(mmap(MAP_A, 2 * PGSIZE, 1, fd, 0) == MAP_A,
        "mmap pages 0-1 of \"exitmap.dat\" at A");
  CHECK(mmap(MAP_B, 2 * PGSIZE, 1, fd, 2 * PGSIZE) == MAP_B,
        "mmap pages 2-3 of \"exitmap.dat\" at B");
  memcpy(MAP_A + 100, MARK_A, sizeof MARK_A - 1);
  memcpy(MAP_B + PGSIZE + 300, MARK_B, sizeof MARK_B - 1);
  CHECK(MAP_A[PGSIZE] == '.', "A's page 1 reads '.'");
  msg("wrote A page 0 and B page 1");
  checkpoint_at(1, (uintptr_t)MAP_A);
  if (by_fault) {
    msg("store to address 0 with the mappings dirty");
    volatile char *null = NULL;
    __asm__("" : "+r"(null));
    *null = 1;
    fail("store to address 0 worked");
  }
  msg("exit with the mappings dirty");
  msg("end");
  exit(0);
}
