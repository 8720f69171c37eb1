/* frame-pin: every frame in use pinned at once, so that a
 * thread that needs one finds no victim and, after the kernel's 100 waits,
 * gives up (the reference kernel's report_no_victim then names the
 * figures: the frames in use, every one pinned).
 *
 * `frame-pin N` (N = the user frames its scenario leaves in the pool)
 * forks N + 1 children ("pin-kid"), each of which execs `child-exit 7`,
 * then waits for them. The scenario's injections (per thread: only the
 * `child-exit` thread stopped at the hook is delayed) hold each child at
 * its first SPT record of the new image (exec has given the old image's
 * frames back: it holds none) until the parent has forked them all and
 * waits, so that the parent needs no frame any more; then hold each of
 * the first N stack-page loads (yield point 2: a frame allocated and
 * pinned, not yet linked) far longer than the 100 waits, so that the last
 * child to load finds all N pinned and is killed (exit(-1)).
 * The parent waits for every child and prints "(frame-pin) K of M
 * children killed" (M = N + 1); a child that exits otherwise than -1 or
 * 7: FAIL. */
#include "../extra/extra.h"

#define MAX_KIDS 64

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  if (n < 1 || n + 1 > MAX_KIDS)
    fail("usage: frame-pin N (1 <= N < %d)", MAX_KIDS);
  msg("begin");
  pid_t kids[MAX_KIDS];
  for (int i = 0; i < n + 1; i++) {
    kids[i] = fork("pin-kid");
    if (kids[i] == 0) {
      exec("child-exit 7");
      fail("exec \"child-exit 7\" failed");
    }
    if (kids[i] < 0)
      fail("fork %d returned %d", i, kids[i]);
  }
  int killed = 0;
  for (int i = 0; i < n + 1; i++) {
    int status = wait(kids[i]);
    if (status == -1)
      killed++;
    else if (status != 7)
      fail("child %d: exit status %d", i, status);
  }
  msg("%d of %d children killed", killed, n + 1);
  msg("end");
  return 0;
}
