/* novictim: a thread that finds nothing to evict while frames are out of
 * the pool waits for them (the reference kernel's no-victim wait,
 * vm/frame.c: evict, wait_for_victim) and gets one when they come back.
 * The program stamps PAGES pages (frames in the frame table) and checks
 * them, then execs `child-exit 7`. Exec gives every frame of the old
 * image back before the new image takes its first one (its stack page);
 * the scenario's injection takes every free frame out of the pool at
 * that first allocation, so the frame table is empty: no victim, and no
 * frame in the pool. The frames come back at the thread's 100th wait
 * (novictim-wait: the new image runs and exits 7) or never
 * (novictim-giveup: after 100 waits the kernel gives up, says why, and
 * the process ends with exit(-1)). */
#include "../extra/extra.h"

#define PAGES 8

static char buf[PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  msg("begin");
  stamp_pages_text(buf, PAGES, "nv");
  check_stamps_text(buf, PAGES, "nv", "before exec");
  msg("exec child-exit 7");
  exec("child-exit 7");
  fail("exec \"child-exit 7\" failed");
  return 1;
}
