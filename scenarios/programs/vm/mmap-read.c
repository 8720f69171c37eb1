/* mmap-read: maps sample.txt read-only (one page) and reads it through
 * memory: the file's bytes, then zeros up to the end of the page.
 * Pintos-KAIST: tests/vm/mmap-read (needs sample.txt), step for step.
 * Checkpoint 1: right after mmap; 0x10000000 is lazy (not loaded) and not
 *   writable.
 * Checkpoint 2: after reading it; present, not writable, not dirty.
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
  checkpoint(1);

  if (memcmp(MAP_ADDR, sample_text, SAMPLE_LEN) != 0)
    fail("mapped bytes differ from sample.txt");
  size_t z = first_nonzero(MAP_ADDR + SAMPLE_LEN, PGSIZE - SAMPLE_LEN);
  if (z != PGSIZE - SAMPLE_LEN)
    fail("byte %zu of the mapping is 0x%02x past the end of the file, "
         "expected 0",
         SAMPLE_LEN + z, (unsigned char)MAP_ADDR[SAMPLE_LEN + z]);
  msg("mapped page holds sample.txt, then zeros");
  checkpoint(2);

  munmap(map);
  msg("munmap");
  checkpoint(3);
  close(fd);
  msg("end");
  return 0;
}
