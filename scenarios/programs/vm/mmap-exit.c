/* mmap-exit: runs child-mm-wrt, which writes sample.txt through a mapping
 * and exits without munmap; the file must then hold the written data.
 * Pintos-KAIST: tests/vm/mmap-exit (needs program child-mm-wrt; sample.txt
 * must NOT be on the disk beforehand). Output strictly ordered.
 * Step for step as there (a failed fork fails at once here; there the wait
 * on -1 fails it). */
#include "textdata.h"
#include "vmtest.h"

int main(void) {
  msg("begin");
  pid_t pid = spawn("child-mm-wrt");
  int status = wait(pid);
  if (status != 0)
    fail("child-mm-wrt exited with %d, expected 0", status);
  msg("child-mm-wrt exited with 0");
  verify_file("sample.txt", sample_text, SAMPLE_LEN);
  msg("end");
  return 0;
}
