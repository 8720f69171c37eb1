/* page-parallel: four child-linear processes (1 MiB of .bss each) run at
 * the same time; each must exit with 0x42 (66).
 * Pintos-KAIST: tests/vm/page-parallel (needs program child-linear).
 * Step for step as there (a failed fork fails at once here; there the wait
 * on -1 fails it).
 * Output: the parent's lines in order; the four "child-linear: exit(66)"
 * lines may come anywhere after "(page-parallel) begin". */
#include "vmtest.h"

#define CHILD_CNT 4

int main(void) {
  pid_t pids[CHILD_CNT];

  msg("begin");
  for (int i = 0; i < CHILD_CNT; i++)
    pids[i] = spawn("child-linear");
  for (int i = 0; i < CHILD_CNT; i++) {
    int status = wait(pids[i]);
    if (status != 0x42)
      fail("child %d exited with %d, expected 66", i, status);
    msg("child %d exited with 66", i);
  }
  msg("end");
  return 0;
}
