/* swap-fork: ten child-swap processes (1 MiB of .bss each) run at the
 * same time on a 40 MB machine; each must exit 0.
 * Pintos-KAIST: tests/vm/swap-fork (40 MB RAM, 200 MB swap disk; needs
 * program child-swap), step for step: each child execs "child-swap" with
 * no argument. Pintos-KAIST's program carries its 2 MB copy of large.txt
 * without touching it, so every fork copies that many lazy data pages:
 * here 2 MiB of program data (exeblob.h), never read.
 * Output: the parent's lines in order; the ten children's "begin" and
 * "child-swap: exit(0)" lines may come anywhere after "(swap-fork) begin". */
#include "exeblob.h"
#include "vmtest.h"

#define CHILD_CNT 10

int main(void) {
  pid_t pids[CHILD_CNT];

  msg("begin");
  for (int i = 0; i < CHILD_CNT; i++)
    pids[i] = spawn("child-swap");
  for (int i = 0; i < CHILD_CNT; i++) {
    int status = wait(pids[i]);
    if (status != 0)
      fail("child %d exited with %d, expected 0", i, status);
  }
  msg("all %d children exited with 0", CHILD_CNT);
  msg("end");
  return 0;
}
