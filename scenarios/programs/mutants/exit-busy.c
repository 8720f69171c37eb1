/* exit-busy: a process that exits while another process is evicting one
 * of its pages frees that page only once the eviction is over. The
 * program creates the flag file "eb-flag" and forks two children:
 * "eb-victim" stamps VICTIM_PAGES pages of its own (pages the parent never
 * touched, so they are the victim's alone), says 'v' in the flag and polls
 * it until it says 'e', then exits without touching them again;
 * "eb-press", once the flag says 'v', says 'e' and stamps PRESS_PAGES
 * pages of its own for PASSES passes, then checks them. Under the
 * scenario's small pool eb-press's faults evict the victim's idle pages,
 * and the scenario makes eb-press yield inside each of its swap writes, so
 * the victim's exit meets a page that is busy, its frame pinned and being
 * written out. A correct kernel waits for that eviction before it frees
 * the page (the page is still the evicting thread's to finish with);
 * one that frees it at once (generated mutant page-195,
 * `vm_wait_unbusy(page)` dropped in page_free) lets the eviction finish
 * on a freed page and leaves its swap slot or frame behind.
 * No checkpoint: the race is the point. */
#include "../extra/extra.h"

#define VICTIM_PAGES 12
#define PRESS_PAGES 16
#define PASSES 3

static char victim[VICTIM_PAGES * PGSIZE] __attribute__((aligned(4096)));
static char press[PRESS_PAGES * PGSIZE] __attribute__((aligned(4096)));

static void be_the_victim(void) {
  stamp_pages_text(victim, VICTIM_PAGES, "eb");
  set_flag("eb-flag", 'v');
  wait_for_flag("eb-flag", 'e');
  exit(0);
}

static void press_on_the_victim(void) {
  wait_for_flag("eb-flag", 'v');
  set_flag("eb-flag", 'e');
  for (unsigned pass = 0; pass < PASSES; pass++)
    stamp_pages_text(press, PRESS_PAGES, pass % 2 ? "odd" : "even");
  check_stamps_text(press, PRESS_PAGES, PASSES % 2 ? "even" : "odd",
                    "after the last pass");
  exit(0);
}

int main(void) {
  msg("begin");
  create_filled("eb-flag", 1, '-');
  pid_t victim_pid = fork("eb-victim");
  if (victim_pid == 0)
    be_the_victim();
  CHECK(victim_pid > 0, "fork the victim");
  pid_t press_pid = fork("eb-press");
  if (press_pid == 0)
    press_on_the_victim();
  CHECK(press_pid > 0, "fork the pressure process");
  CHECK(wait(victim_pid) == 0, "the victim exited 0");
  CHECK(wait(press_pid) == 0, "the pressure process found its stamps");
  msg("end");
  return 0;
}
