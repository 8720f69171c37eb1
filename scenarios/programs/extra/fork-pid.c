/* fork-pid: fork returns the child's pid to the parent even when the
 * child is already gone by the time the parent runs again: the child ends
 * at once with exit status -1, and the parent must still get a pid (> 0)
 * from fork, and -1 from wait on it. (Pintos-KAIST's mmap-inherit only
 * checks wait(fork's result) == -1, which wait(-1) also satisfies, so a
 * fork that reports the dead child's -1 instead of its pid passes there.)
 * `fork-pid HOW`: the child ("fork-kid")
 *   exit   calls exit(-1);
 *   fault  reads address 0, so the kernel kills it with -1.
 * Before fork the parent stops at checkpoint 0 (no expectations): that
 * loads the page of checkpoint() (and everything else the child touches
 * before it ends is already loaded too), so the child runs to its end
 * without blocking on a page fault, which is what lets it finish before
 * the parent returns from fork on a kernel that keeps running the child.
 * (It also keeps this scenario about fork's return value: on one student
 * kernel a forked child's copy of a page the parent never loaded, such as
 * checkpoint()'s, is zero-filled; fork-code.c tests that.)
 * Checkpoint 1: the child, first thing; fork_page (written by the parent
 *   before fork) is valid in the child.
 * Checkpoint 2: the parent, after wait; fork_page is present. */
#include "extra.h"

char fork_page[PGSIZE] __attribute__((aligned(PGSIZE)));

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "";
  if (strcmp(how, "exit") != 0 && strcmp(how, "fault") != 0)
    fail("usage: fork-pid exit|fault");

  msg("begin");
  memset(fork_page, 'P', PGSIZE);
  checkpoint_at(0, (uintptr_t)fork_page);
  pid_t pid = fork("fork-kid");
  if (pid == 0) {
    checkpoint_at(1, (uintptr_t)fork_page);
    if (strcmp(how, "exit") == 0)
      exit(-1);
    msg("kid: read address 0 (%d)", *(volatile int *)0);
    exit(0);
  }
  if (pid <= 0)
    fail("fork returned %d to the parent, not the child's pid", pid);
  msg("fork returned the child's pid");
  int status = wait(pid);
  if (status != -1)
    fail("wait for fork-kid returned %d, expected -1", status);
  msg("wait for fork-kid returned -1");
  checkpoint_at(2, (uintptr_t)fork_page);
  msg("end");
  return 0;
}
