/* fork-busy: fork copies a page only once no other thread is working on
 * it. The program creates the flag file "fb-flag" and forks "fb-press",
 * which writes PRESS_PAGES pages of its own over and over (under the
 * scenario's small pool: evicting, among others, the parent's pages) until
 * the flag says 's'. The scenario makes fb-press yield at each of its swap
 * writes, in the middle of an eviction: the victim's pages are busy, its
 * frame pinned and being written out. The parent stamps STAMP_PAGES pages
 * and forks ROUNDS children ("fb-child") one after another; each checks
 * every stamp and exits. A child's copy that meets a page being evicted
 * must wait for the eviction to end (and read the page back from swap);
 * one that shares the frame being written out (generated mutant fork-57,
 * `vm_wait_unbusy(src)` dropped) is swapped out with it, keeps a stale
 * mapping of a frame given to fb-press, and reads fb-press's bytes.
 * No checkpoint: the race is the point. */
#include "../extra/extra.h"

#define STAMP_PAGES 8
#define PRESS_PAGES 24
#define ROUNDS 12
#define MAX_PASSES 4000

static char stamps[STAMP_PAGES * PGSIZE] __attribute__((aligned(4096)));
static char press[PRESS_PAGES * PGSIZE] __attribute__((aligned(4096)));

/* fb-press: writes every press page until "fb-flag" holds 's'. */
static void press_until_told(void) {
  int fd = open_or_fail("fb-flag");
  for (unsigned pass = 0; pass < MAX_PASSES; pass++) {
    for (size_t i = 0; i < PRESS_PAGES; i++)
      stamp_page(press + i * PGSIZE, "press", i + pass);
    char c = 0;
    seek(fd, 0);
    if (read(fd, &c, 1) == 1 && c == 's')
      exit(0);
  }
  fail("no stop signal in \"fb-flag\" after %d passes", MAX_PASSES);
}

/* Tells fb-press to stop and waits for it (also before a failure, so that
 * a failing run ends instead of pressing on). */
static int stop_press(pid_t press_pid) {
  set_flag("fb-flag", 's');
  return wait(press_pid);
}

int main(void) {
  msg("begin");
  create_filled("fb-flag", 1, '-');
  pid_t press_pid = fork("fb-press");
  if (press_pid == 0)
    press_until_told();
  CHECK(press_pid > 0, "fork the pressure process");
  stamp_pages_text(stamps, STAMP_PAGES, "fb");
  for (int round = 0; round < ROUNDS; round++) {
    pid_t child = fork("fb-child");
    if (child == 0) {
      check_stamps_text(stamps, STAMP_PAGES, "fb", "in a forked child");
      exit(0);
    }
    int status = child < 0 ? child : wait(child);
    if (status != 0) {
      stop_press(press_pid);
      fail("child %d: fork or exit status %d, expected 0 (every stamp intact)",
           round, status);
    }
  }
  msg("%d forked children found every stamp", ROUNDS);
  CHECK(stop_press(press_pid) == 0, "the pressure process stopped");
  msg("end");
  return 0;
}
