/* swap-fork: ten child-swap processes (1 MiB of stamped .bss each) run at
 * the same time on a 40 MB machine; each must exit 0.
 * Pintos-KAIST: tests/vm/swap-fork (40 MB RAM, 200 MB swap disk; needs
 * program child-swap).
 * Output: the parent's lines in order; the ten children's "begin", "end"
 * and "child-swap: exit(0)" lines may come anywhere after
 * "(swap-fork) begin". */
#include "vmtest.h"

#define CHILD_CNT 10

int main(void) {
  pid_t pids[CHILD_CNT];
  char cmd[32];

  msg("begin");
  for (int i = 0; i < CHILD_CNT; i++) {
    snprintf(cmd, sizeof cmd, "child-swap %d", i);
    pids[i] = spawn(cmd);
  }
  for (int i = 0; i < CHILD_CNT; i++) {
    int status = wait(pids[i]);
    if (status != 0)
      fail("child %d exited with %d, expected 0", i, status);
  }
  msg("all %d children exited with 0", CHILD_CNT);
  msg("end");
  return 0;
}
