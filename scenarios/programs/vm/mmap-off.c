/* mmap-off: a mapping at a nonzero file offset: page 1 (offset 0x1000) of
 * large.txt, writable. The program checks the mapped bytes, overwrites
 * the page through the mapping with a page of zeros and unmaps it; read()
 * must then show page 0 of the file unchanged and page 1 zeroed.
 * Pintos-KAIST: tests/vm/mmap-off (needs large.txt), step for step: the
 * zeros come from a static (.bss) page that is cleared and copied into
 * the mapping, read() fills a page-sized buffer on the stack (so the
 * system call does not fault on a never-touched page), and only pages 0
 * and 1 are read back. Pintos-KAIST's program compares with its
 * compiled-in copy of large.txt, so it carries 2 MB of data and reads
 * pages 1 and 0 of it: here pages 1 and 0 of 2 MiB of program data
 * (exeblob.h). Afterwards large.txt on the disk is the original with
 * bytes 0x1000..0x1fff zeroed (which also shows that page 2 and the rest
 * are unchanged).
 * Checkpoint 1: after mmap and close; 0x10000000 lazy and writable.
 * Checkpoint 2: after the copy; present, writable and dirty.
 * Checkpoint 3: after munmap; unmapped. */
#include "exeblob.h"
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

static char zeros[PGSIZE];

int main(void) {
  char buf[PGSIZE];
  int fd;

  msg("begin");
  CHECK((fd = open("large.txt")) > 1, "open \"large.txt\"");
  CHECK(mmap(MAP_ADDR, PGSIZE, 1, fd, 0x1000) == MAP_ADDR,
        "mmap \"large.txt\" from offset 0x1000");
  close(fd);
  checkpoint(1);

  if (text_mismatch("large", 0x1000, MAP_ADDR, PGSIZE) != PGSIZE ||
      !exe_blob_page_ok(1))
    fail("the mapping does not read bytes 0x1000-0x1fff of large.txt");
  msg("mapping reads bytes 0x1000-0x1fff of large.txt");
  msg("copy a page of zeros into the mapping");
  memset(zeros, 0, PGSIZE);
  memcpy(MAP_ADDR, zeros, PGSIZE);
  checkpoint(2);
  munmap(MAP_ADDR);
  msg("munmap");
  checkpoint(3);

  CHECK((fd = open("large.txt")) > 1, "open \"large.txt\" again");
  CHECK(read(fd, buf, PGSIZE) == PGSIZE, "read page 0 of \"large.txt\"");
  if (text_mismatch("large", 0, buf, PGSIZE) != PGSIZE ||
      !exe_blob_page_ok(0))
    fail("page 0 of \"large.txt\" changed");
  msg("page 0 is unchanged");
  CHECK(read(fd, buf, PGSIZE) == PGSIZE, "read page 1 of \"large.txt\"");
  if (memcmp(buf, zeros, PGSIZE) != 0)
    fail("page 1 of \"large.txt\" is not all zeros");
  msg("page 1 is all zeros");
  close(fd);
  msg("end");
  return 0;
}
