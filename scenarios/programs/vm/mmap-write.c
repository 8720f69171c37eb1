/* mmap-write: writes a new file through a writable mapping; after munmap
 * read() sees the data (munmap writes dirty pages back).
 * Pintos-KAIST: tests/vm/mmap-write (creates sample.txt itself, so
 * sample.txt must NOT be on the disk beforehand), step for step: read()'s
 * return value is not checked, only the bytes it left in the buffer.
 * Afterwards the file sample.txt on the disk equals scenarios/data
 * sample.txt.
 * Checkpoint 1: after mmap; 0x10000000 lazy and writable.
 * Checkpoint 2: after the copy; present, writable and dirty.
 * Checkpoint 3: after munmap; unmapped. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  char buf[SAMPLE_LEN];
  void *map;
  int fd;

  msg("begin");
  CHECK(create("sample.txt", SAMPLE_LEN), "create \"sample.txt\"");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK((map = mmap(MAP_ADDR, PGSIZE, 1, fd, 0)) != MAP_FAILED,
        "mmap \"sample.txt\" writable");
  checkpoint(1);
  memcpy(MAP_ADDR, sample_text, SAMPLE_LEN);
  checkpoint(2);
  munmap(map);
  msg("munmap");
  checkpoint(3);
  read(fd, buf, SAMPLE_LEN);
  CHECK(memcmp(buf, sample_text, SAMPLE_LEN) == 0,
        "read() returns the data written through the mapping");
  close(fd);
  msg("end");
  return 0;
}
