/* mmap-twice: the same file, opened twice, mapped at two addresses; both
 * mappings read the file's data.
 * Pintos-KAIST: tests/vm/mmap-twice (needs sample.txt).
 * Checkpoint 1: after reading both; 0x10000000 and 0x20000000 present and
 *   not writable. */
#include "textdata.h"
#include "vmtest.h"

int main(void) {
  char *const addrs[2] = {(char *)0x10000000, (char *)0x20000000};

  msg("begin");
  for (int i = 0; i < 2; i++) {
    int fd = open("sample.txt");
    CHECK(fd > 1, "open \"sample.txt\" #%d", i);
    CHECK(mmap(addrs[i], PGSIZE, 0, fd, 0) == addrs[i],
          "mmap \"sample.txt\" #%d at %p", i, (void *)addrs[i]);
  }
  for (int i = 0; i < 2; i++)
    CHECK(memcmp(addrs[i], sample_text, SAMPLE_LEN) == 0,
          "mapping #%d reads sample.txt", i);
  checkpoint(1);
  msg("end");
  return 0;
}
