/* mmap-close: a mapping stays valid after its file descriptor is closed.
 * Pintos-KAIST: tests/vm/mmap-close (needs sample.txt).
 * Checkpoint 1: after close(); 0x10000000 is lazy (not loaded).
 * Checkpoint 2: after reading it; present.
 * Checkpoint 3: after munmap; unmapped. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  char *map = mmap(MAP_ADDR, PGSIZE, 0, fd, 0);
  CHECK(map == MAP_ADDR, "mmap \"sample.txt\" at 0x10000000");
  close(fd);
  msg("close \"sample.txt\"");
  checkpoint(1);
  CHECK(memcmp(map, sample_text, SAMPLE_LEN) == 0,
        "mapping still reads sample.txt");
  checkpoint(2);
  munmap(map);
  checkpoint(3);
  msg("end");
  return 0;
}
