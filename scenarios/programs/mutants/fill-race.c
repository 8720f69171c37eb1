/* fill-race: two forked children, each stamping and re-checking its own
 * pages, under a user pool far smaller than their pages (the scenario
 * caps it), so every round swaps most pages out and in while the other
 * child is doing the same. Each child makes ROUNDS passes over its
 * RACE_PAGES pages of .bss; a pass checks every page's stamp from the
 * pass before ("aNN-PPPP" / "bNN-PPPP") and writes the next one. A page
 * that comes back with the other child's stamp, an old stamp or zeros
 * ends the child with a FAIL line naming the page, and the parent reports
 * the child's exit status.
 * This is the workload for the evict-filling race (docs/mutants.md): a
 * kernel that lets eviction take a frame that is still being filled hands
 * one child's frame to the other mid-load. */
#include "../extra/extra.h"

#define RACE_PAGES 24
#define ROUNDS 4

char race_buf[RACE_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* The stamp tag of CHILD ('a' or 'b') in pass ROUND. */
static void race_tag(char tag[8], char child, int round) {
  snprintf(tag, 8, "%c%02d", child, round);
}

/* One child's passes; returns its exit status (0: every page intact). */
static int run_child(char child) {
  char tag[8], prev[8];
  race_tag(tag, child, 0);
  stamp_pages_text(race_buf, RACE_PAGES, tag);
  for (int round = 1; round <= ROUNDS; round++) {
    race_tag(prev, child, round - 1);
    race_tag(tag, child, round);
    for (size_t i = 0; i < RACE_PAGES; i++) {
      char *page = race_buf + i * PGSIZE;
      if (!page_has_stamp(page, prev, i))
        fail("child %c pass %d: page %zu does not hold \"%s-%04zu\" (it "
             "starts \"%.15s\")", child, round, i, prev, i, page);
      stamp_page(page, tag, i);
    }
  }
  return 0;
}

int main(void) {
  static const char children[2] = {'a', 'b'};
  static const char *names[2] = {"fill-race-a", "fill-race-b"};
  pid_t pids[2];
  msg("begin");
  for (int c = 0; c < 2; c++) {
    pids[c] = fork(names[c]);
    if (pids[c] == 0)
      exit(run_child(children[c]));
    if (pids[c] < 0)
      fail("fork of child %c failed", children[c]);
  }
  for (int c = 0; c < 2; c++) {
    int status = wait(pids[c]);
    if (status != 0)
      fail("child %c exited with %d, expected 0", children[c], status);
  }
  msg("both children found every page intact after %d passes", ROUNDS);
  msg("end");
  return 0;
}
