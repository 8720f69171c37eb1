/* mmap-remove: a mapping stays readable after its file is closed and
 * removed, even when a new file is created afterwards (which may reuse the
 * removed file's disk space if the kernel freed it too early).
 * Pintos-KAIST: tests/vm/mmap-remove (needs sample.txt; creates
 * "another", 40 KiB), step for step.
 * Checkpoint 1: after remove and create; 0x10000000 lazy (not loaded yet).
 * Checkpoint 2: after munmap; unmapped. */
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
  CHECK(remove("sample.txt"), "remove \"sample.txt\"");
  CHECK(open("sample.txt") == -1, "open \"sample.txt\" now fails");
  CHECK(create("another", 10 * PGSIZE), "create \"another\"");
  checkpoint(1);

  if (memcmp(MAP_ADDR, sample_text, SAMPLE_LEN) != 0)
    fail("mapped bytes differ from the removed sample.txt");
  size_t z = first_nonzero(MAP_ADDR + SAMPLE_LEN, PGSIZE - SAMPLE_LEN);
  if (z != PGSIZE - SAMPLE_LEN)
    fail("byte %zu of the mapping is 0x%02x past the end of the file, "
         "expected 0",
         SAMPLE_LEN + z, (unsigned char)MAP_ADDR[SAMPLE_LEN + z]);
  msg("mapping still reads the removed file, then zeros");
  munmap(map);
  checkpoint(2);
  msg("end");
  return 0;
}
