/* mm-fork: fork does not inherit mmap mappings. The parent maps the
 * first three pages of large.txt at MAP_ADDR, reads page 0 (resident;
 * pages 1 and 2 stay lazy) and forks. The child ("mm-fork-child") stops
 * at checkpoint 1 (the range must have no PTE and no SPT entry in the
 * child), then reads the mapped address: that must end it with exit(-1);
 * if the read succeeds it prints a FAIL line. The parent checks the
 * child's exit status and that its own mapping still reads the file.
 * Checkpoint 1 (in the child): before the read. */
#include "../extra/extra.h"

#define MAP_ADDR ((char *)0x10000000)
#define MAP_PAGES 3

int main(void) {
  msg("begin");
  int fd = open("large.txt");
  CHECK(fd > 1, "open \"large.txt\"");
  char *map = mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 0, fd, 0);
  CHECK(map == MAP_ADDR, "mmap \"large.txt\" at 0x10000000");
  char first = map[0];
  pid_t pid = fork("mm-fork-child");
  if (pid == 0) {
    checkpoint_at(1, (uintptr_t)map);
    volatile char seen = map[PGSIZE];
    fail("the child read the parent's mapping (byte '%c')", seen);
  }
  if (pid < 0)
    fail("fork failed");
  int status = wait(pid);
  if (status != -1)
    fail("the child exited with %d; touching the parent's mapping must end it "
         "with -1", status);
  if (map[0] != first)
    fail("the parent's mapping changed across the fork");
  msg("the child could not see the mapping");
  munmap(map);
  msg("end");
  return 0;
}
