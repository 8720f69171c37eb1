/* forktree: fork, exec and wait.
 *  1. Forks four children that exec "child-exit N" for N = 0, 5, 81, -3;
 *     waits for them in reverse order and checks each status; a second
 *     wait on an already reaped child returns -1.
 *  2. Forks "forktree-mid", which forks "forktree-leaf" (exits 7), waits
 *     for it (7, then -1 on a second wait) and exits with the leaf's pid;
 *     the parent then checks that wait(leaf pid) = -1: not its child.
 *  3. Forks a child whose memory writes must not reach the parent.
 *  4. Forks a child that execs a missing program: exec returns -1 (the
 *     child then exits 77) or the kernel kills it (-1); both are accepted.
 * Expected: "(forktree) begin" ... "(forktree) end", exit status 0; the
 * kernel's exit lines include "child-exit: exit(0)", "child-exit: exit(5)",
 * "child-exit: exit(81)", "child-exit: exit(-3)". Any error: FAIL, exit 1. */
#include "vmuser.h"

#define EXEC_CHILDREN 4
static const int exec_status[EXEC_CHILDREN] = {0, 5, 81, -3};
static int shared_global = 1234;

/* Forks; in the child runs CHILD_MAIN(ARG) and exits with its result.
 * Returns the child's pid in the parent. */
static pid_t spawn(const char *name, int (*child_main)(int), int arg) {
  pid_t pid = fork(name);
  if (pid == 0)
    exit(child_main(arg));
  if (pid < 0)
    fail("fork(\"%s\") returned %d", name, pid);
  return pid;
}

static int exec_child_exit(int status) {
  char cmd[32];
  snprintf(cmd, sizeof cmd, "child-exit %d", status);
  exec(cmd);
  fail("exec(\"%s\") returned", cmd);
}

static int leaf_main(int unused) {
  (void)unused;
  return 7;
}

/* Middle of the tree: returns the leaf's pid if all its checks pass. */
static int mid_main(int unused) {
  (void)unused;
  pid_t leaf = spawn("forktree-leaf", leaf_main, 0);
  int status = wait(leaf);
  if (status != 7)
    fail("mid: wait(leaf) = %d, expected 7", status);
  if ((status = wait(leaf)) != -1)
    fail("mid: second wait(leaf) = %d, expected -1", status);
  return leaf;
}

static int scribble_main(int unused) {
  (void)unused;
  shared_global = 99;
  return shared_global;
}

static int exec_missing_main(int unused) {
  (void)unused;
  int r = exec("no-such-program 1 2");
  return r == -1 ? 77 : 78;
}

static void check_exec_children(void) {
  pid_t pids[EXEC_CHILDREN];
  for (int i = 0; i < EXEC_CHILDREN; i++)
    pids[i] = spawn("forktree-exec", exec_child_exit, exec_status[i]);
  for (int i = EXEC_CHILDREN - 1; i >= 0; i--) {
    int status = wait(pids[i]);
    CHECK(status == exec_status[i], "wait(child-exit %d) = %d",
          exec_status[i], status);
  }
  int again = wait(pids[0]);
  CHECK(again == -1, "second wait on a reaped child = %d", again);
}

static void check_grandchild(void) {
  pid_t mid = spawn("forktree-mid", mid_main, 0);
  int leaf = wait(mid);
  if (leaf <= 1)
    fail("wait(mid) = %d, expected the leaf's pid", leaf);
  msg("middle child reaped its grandchild");
  int status = wait(leaf);
  CHECK(status == -1, "wait on a grandchild (not a child) = %d", status);
}

static void check_memory_copy(void) {
  int status = wait(spawn("forktree-copy", scribble_main, 0));
  CHECK(status == 99, "copy child exited with %d", status);
  CHECK(shared_global == 1234, "parent's global after child wrote = %d",
        shared_global);
}

static void check_exec_missing(void) {
  int status = wait(spawn("forktree-miss", exec_missing_main, 0));
  CHECK(status == 77 || status == -1,
        "exec of a missing program: child status %d (77 or -1)", status);
}

int main(void) {
  test_name = "forktree";
  msg("begin");
  check_exec_children();
  check_grandchild();
  check_memory_copy();
  check_exec_missing();
  msg("end");
  return 0;
}
