/* mmap-twice: the same file, opened twice, mapped at two addresses; both
 * mappings read the file's data.
 * Pintos-KAIST: tests/vm/mmap-twice (needs sample.txt), step for step.
 * Checkpoint 1: after reading both; 0x10000000 and 0x20000000 present and
 *   not writable. */
#include "textdata.h"
#include "vmtest.h"

int main(void) {
  char *const addrs[2] = {(char *)0x10000000, (char *)0x20000000};
  int fd[2];

  msg("begin");
  for (int i = 0; i < 2; i++) {
    CHECK((fd[i] = open("sample.txt")) > 1, "open \"sample.txt\" #%d", i);
    CHECK(mmap(addrs[i], PGSIZE, 0, fd[i], 0) != MAP_FAILED,
          "mmap \"sample.txt\" #%d at %p", i, (void *)addrs[i]);
  }
  for (int i = 0; i < 2; i++)
    CHECK(memcmp(addrs[i], sample_text, SAMPLE_LEN) == 0,
          "mapping #%d reads sample.txt", i);
  checkpoint(1);
  msg("end");
  return 0;
}
