/* mmap-clean: munmap must not write back a page that was only read. The
 * program maps sample.txt read-only, reads it, then overwrites the start
 * of the file with write(); after munmap, read() must show the write()'s
 * bytes, not the (stale) mapped copy.
 * Pintos-KAIST: tests/vm/mmap-clean (needs sample.txt), step for step: it
 * reads the file back into a static (.bss) buffer, as Pintos-KAIST's
 * does, and never closes the file. Afterwards sample.txt on the disk is
 * CLEAN_TEXT followed by the rest of the sample.
 * Checkpoint 1: after write(); 0x54321000 present, not dirty.
 * Checkpoint 2: after munmap; unmapped. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x54321000)
#define CLEAN_TEXT "Overwritten by write(), not through the mapping."
#define CLEAN_LEN (sizeof CLEAN_TEXT - 1)

static char readback[SAMPLE_LEN];

int main(void) {
  void *map;
  int fd;

  msg("begin");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK((map = mmap(MAP_ADDR, PGSIZE, 0, fd, 0)) != MAP_FAILED,
        "mmap \"sample.txt\" at 0x54321000");
  if (memcmp(MAP_ADDR, sample_text, SAMPLE_LEN) != 0)
    fail("mapped bytes differ from sample.txt");
  CHECK(write(fd, CLEAN_TEXT, CLEAN_LEN) == (int)CLEAN_LEN,
        "write() over the start of \"sample.txt\"");
  checkpoint(1);
  msg("munmap");
  munmap(map);
  checkpoint(2);

  seek(fd, 0);
  CHECK(read(fd, readback, sizeof readback) == (int)sizeof readback,
        "read \"sample.txt\"");
  if (memcmp(readback, CLEAN_TEXT, CLEAN_LEN) != 0 ||
      memcmp(readback + CLEAN_LEN, sample_text + CLEAN_LEN,
             SAMPLE_LEN - CLEAN_LEN) != 0) {
    if (memcmp(readback, sample_text, SAMPLE_LEN) == 0)
      fail("munmap wrote a clean page back over the file");
    fail("the file holds unexpected bytes");
  }
  msg("file keeps the bytes of write()");
  msg("end");
  return 0;
}
