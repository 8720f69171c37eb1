/* mmap-clean: munmap must not write back a page that was only read. The
 * program maps sample.txt read-only, reads it, then overwrites the start
 * of the file with write(); after munmap the file must still hold the
 * write()'s bytes, not the (stale) mapped copy.
 * Pintos-KAIST: tests/vm/mmap-clean (needs sample.txt). Afterwards
 * sample.txt on the disk is CLEAN_TEXT followed by the rest of the sample.
 * Checkpoint 1: after write(); 0x54321000 present, not dirty.
 * Checkpoint 2: after munmap; unmapped. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x54321000)
#define CLEAN_TEXT "Overwritten by write(), not through the mapping."
#define CLEAN_LEN (sizeof CLEAN_TEXT - 1)

int main(void) {
  char buf[SAMPLE_LEN];

  msg("begin");
  int fd = open("sample.txt");
  CHECK(fd > 1, "open \"sample.txt\"");
  char *map = mmap(MAP_ADDR, PGSIZE, 0, fd, 0);
  CHECK(map == MAP_ADDR, "mmap \"sample.txt\" at 0x54321000");
  if (memcmp(map, sample_text, SAMPLE_LEN) != 0)
    fail("mapped bytes differ from sample.txt");
  CHECK(write(fd, CLEAN_TEXT, CLEAN_LEN) == (int)CLEAN_LEN,
        "write() over the start of \"sample.txt\"");
  checkpoint(1);
  munmap(map);
  msg("munmap");
  checkpoint(2);

  seek(fd, 0);
  CHECK(read(fd, buf, SAMPLE_LEN) == (int)SAMPLE_LEN, "read \"sample.txt\"");
  if (memcmp(buf, CLEAN_TEXT, CLEAN_LEN) != 0) {
    if (memcmp(buf, sample_text, CLEAN_LEN) == 0)
      fail("munmap wrote a clean page back over the file");
    fail("the start of the file holds unexpected bytes");
  }
  if (memcmp(buf + CLEAN_LEN, sample_text + CLEAN_LEN,
             SAMPLE_LEN - CLEAN_LEN) != 0)
    fail("the rest of the file changed");
  msg("file keeps the bytes of write()");
  close(fd);
  msg("end");
  return 0;
}
