/* mmap-close: a mapping stays valid after its file descriptor is closed.
 * Pintos-KAIST: tests/vm/mmap-close (needs sample.txt), step for step.
 * Checkpoint 1: after close(); 0x10000000 is lazy (not loaded).
 * Checkpoint 2: after reading it; present.
 * Checkpoint 3: after munmap; unmapped. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  void *map;
  int fd;

  msg("begin");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK((map = mmap(MAP_ADDR, PGSIZE, 0, fd, 0)) != MAP_FAILED,
        "mmap \"sample.txt\" at 0x10000000");
  close(fd);
  msg("close \"sample.txt\"");
  checkpoint(1);
  if (memcmp(MAP_ADDR, sample_text, SAMPLE_LEN) != 0)
    fail("mapped bytes differ from sample.txt after close");
  msg("mapping still reads sample.txt");
  checkpoint(2);
  munmap(map);
  checkpoint(3);
  msg("end");
  return 0;
}
