/* mmap-inherit: a mapping does not survive into a new program: the parent
 * maps sample.txt read-only at 0x54321000, then a forked child execs
 * child-inherit, whose store to 0x54321000 must kill it (exit(-1)). The
 * parent's mapping must be unchanged.
 * Pintos-KAIST: tests/vm/mmap-inherit (needs sample.txt and program
 * child-inherit), step for step: the forked child prints its line and
 * execs; the parent only checks that wait() on what fork returned gives
 * -1 (fork's return value itself is not checked, so a kernel whose fork
 * returns -1 once the child has already died still passes here; the
 * extra scenarios fork-pid-* test fork's return value). Output strictly
 * ordered.
 * Checkpoint 1: before fork; 0x54321000 present in the parent. */
#include "textdata.h"
#include "vmtest.h"

#define MAP_ADDR ((char *)0x54321000)

int main(void) {
  int fd;

  msg("begin");
  CHECK((fd = open("sample.txt")) > 1, "open \"sample.txt\"");
  CHECK(mmap(MAP_ADDR, PGSIZE, 0, fd, 0) != MAP_FAILED,
        "mmap \"sample.txt\" at 0x54321000");
  if (memcmp(MAP_ADDR, sample_text, SAMPLE_LEN) != 0)
    fail("mapped bytes differ from sample.txt");
  checkpoint(1);

  pid_t pid = fork("child-inherit");
  if (pid == 0) {
    msg("child execs child-inherit");
    exec("child-inherit");
    fail("exec \"child-inherit\" returned");
  }
  int status = wait(pid);
  if (status != -1)
    fail("wait for child-inherit returned %d, expected -1", status);
  msg("wait for child-inherit returned -1");
  CHECK(memcmp(MAP_ADDR, sample_text, SAMPLE_LEN) == 0,
        "parent's mapping still reads sample.txt");
  msg("end");
  return 0;
}
