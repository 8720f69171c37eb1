/* child-mm-wrt: child of mmap-exit. Creates sample.txt, maps it writable,
 * copies the sample text into the mapping and exits WITHOUT munmap: the
 * kernel must write the dirty page back when the process exits.
 * Pintos-KAIST: tests/vm/child-mm-wrt, step for step (mmap only has to
 * return something other than MAP_FAILED, as there).
 * Checkpoint 201: after the copy; 0x10000000 present, writable, dirty. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x10000000)

int main(void) {
  int fd;

  msg("begin");
  CHECK(create("sample.txt", SAMPLE_LEN), "create \"sample.txt\"");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK(mmap(MAP_ADDR, SAMPLE_LEN, 1, fd, 0) != MAP_FAILED,
        "mmap \"sample.txt\" writable");
  memcpy(MAP_ADDR, sample_text, SAMPLE_LEN);
  checkpoint(201);
  msg("end");
  return 0;
}
