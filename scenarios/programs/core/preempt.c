/* preempt [ITERS]: forks two children that exec "spin A ITERS" and
 * "spin B ITERS" (default DEFAULT_ITERS), waits for both and checks that
 * each exited 0. Whether the kernel preempted them is read from the
 * console by the host test: with preemption, lines of both spinners
 * ("A i", "B j") appear before the first "A done" / "B done".
 * Expected: "(preempt) begin", the spinners' lines, "(preempt) end";
 * exit status 0. Fork/exec/wait errors: FAIL line, exit 1. */
#include "vmuser.h"

/* Each spinner runs for several 40 ms time slices both in real time and
 * under -icount shift=0; measured for both spinners together: 0.3 s (TCG),
 * 0.9 s (TCG with -icount shift=0,sleep=off). */
#define DEFAULT_ITERS 100000000

static pid_t start_spinner(const char *name, int iters) {
  char cmd[48];
  snprintf(cmd, sizeof cmd, "spin %s %d", name, iters);
  pid_t pid = fork("preempt-child");
  if (pid == 0) {
    exec(cmd);
    fail("exec(\"%s\") returned", cmd);
  }
  if (pid < 0)
    fail("fork for \"%s\" returned %d", cmd, pid);
  return pid;
}

int main(int argc, char **argv) {
  test_name = "preempt";
  int iters = argc > 1 ? atoi(argv[1]) : DEFAULT_ITERS;
  if (iters <= 0)
    fail("usage: preempt [ITERS > 0]");
  msg("begin");
  pid_t a = start_spinner("A", iters);
  pid_t b = start_spinner("B", iters);
  int status_a = wait(a), status_b = wait(b);
  CHECK(status_a == 0 && status_b == 0, "spinners exited with %d and %d",
        status_a, status_b);
  msg("end");
  return 0;
}
