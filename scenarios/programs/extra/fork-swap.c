/* fork-swap: fork of a process whose pages are partly in swap and partly
 * never loaded. The scenario caps the user pool at 40 frames. The parent
 * stamps the 96 pages of fork_buf (most go to swap), leaves the 8 pages of
 * fork_lazy (.bss) and the page fork_data (.data, 'D' bytes) untouched,
 * and forks "fork-kid". The child must see every stamp (including the
 * pages that were in swap at the fork), zeros in fork_lazy and 'D' in
 * fork_data; it then overwrites fork_buf with its own stamps and exits.
 * The parent waits, and must still see its own stamps: the child's
 * writes never reach it. Output is ordered: the parent waits at once.
 * Checkpoint 1: parent, before fork; fork_buf page 0 not present but
 *   valid and in swap; fork_lazy (8 pages) and fork_data lazy; at least
 *   32 swap slots used.
 * Checkpoint 2: child, first thing; fork_lazy and fork_data still lazy
 *   (fork does not load never-touched pages); fork_buf's 96 pages valid.
 * Checkpoint 3: child, after its writes; the last page of fork_buf is
 *   present and reads "kid-0095".
 * Checkpoint 4: parent, after wait; fork_lazy and fork_data still lazy;
 *   fork_buf's 96 pages valid. */
#include "extra.h"

#define FORK_PAGES 96
#define LAZY_PAGES 8

char fork_buf[FORK_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));
char fork_lazy[LAZY_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));
char fork_data[PGSIZE] __attribute__((aligned(PGSIZE))) = {
    [0 ... PGSIZE - 1] = 'D'};

/* Fails unless fork_lazy reads zeros and fork_data 'D' (WHO: whose view). */
static void check_untouched(const char *who) {
  size_t bad = first_nonzero(fork_lazy, sizeof fork_lazy);
  if (bad != sizeof fork_lazy)
    fail("%s: fork_lazy byte %zu is not 0", who, bad);
  for (size_t i = 0; i < PGSIZE; i++)
    if (fork_data[i] != 'D')
      fail("%s: fork_data byte %zu is 0x%02x, not 'D'", who, i,
           fork_data[i] & 0xff);
  msg("%s: never-touched pages read zeros and 'D'", who);
}

/* The forked child: checks what it inherited, writes its own stamps. */
static void child(void) {
  checkpoint_at(2, (uintptr_t)fork_buf);
  check_stamps_text(fork_buf, FORK_PAGES, "fork", "in the child");
  msg("child: all %d stamps inherited", FORK_PAGES);
  check_untouched("child");
  stamp_pages_text(fork_buf, FORK_PAGES, "kid");
  check_stamps_text(fork_buf, FORK_PAGES, "kid", "after the child's writes");
  msg("child: own stamps written and read back");
  checkpoint_at(3, (uintptr_t)fork_buf);
  exit(0);
}

int main(void) {
  msg("begin");
  stamp_pages_text(fork_buf, FORK_PAGES, "fork");
  msg("stamped %d pages", FORK_PAGES);
  checkpoint_at(1, (uintptr_t)fork_buf);
  pid_t pid = fork("fork-kid");
  if (pid == 0)
    child();
  if (pid == PID_ERROR)
    fail("fork failed");
  int status = wait(pid);
  CHECK(status == 0, "fork-kid exited with %d", status);
  checkpoint_at(4, (uintptr_t)fork_buf);
  check_stamps_text(fork_buf, FORK_PAGES, "fork", "in the parent after wait");
  msg("parent: all %d stamps intact", FORK_PAGES);
  check_untouched("parent");
  msg("end");
  return 0;
}
