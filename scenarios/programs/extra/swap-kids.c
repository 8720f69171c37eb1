/* swap-kids: swap-fork with children whose data differ. Ten swap-kid
 * processes run at once, child K stamping the 256 pages of its 1 MiB .bss
 * buffer with "kidK-NNNN" at both ends of page NNNN; the scenario caps the
 * user pool at 128 frames, so most of every child's pages are in swap
 * while the others run. A page that comes back from another process's
 * frame or swap slot, or zero-filled, or only partly, is caught.
 * (Pintos-KAIST's child-swap runs without an argument: its ten children
 * write the same byte values, so a page handed to the wrong child goes
 * unnoticed there.) Each child must exit 0. */
#include "extra.h"

#define KIDS 10

int main(void) {
  pid_t pids[KIDS];
  char cmd[32];

  msg("begin");
  for (int k = 0; k < KIDS; k++) {
    snprintf(cmd, sizeof cmd, "swap-kid %d", k);
    pids[k] = spawn(cmd);
  }
  for (int k = 0; k < KIDS; k++) {
    int status = wait(pids[k]);
    if (status != 0)
      fail("swap-kid %d exited with %d, expected 0", k, status);
  }
  msg("all %d children exited with 0", KIDS);
  msg("end");
  return 0;
}
