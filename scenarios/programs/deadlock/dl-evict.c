/* dl-evict: eviction and read() at the same time, under a user pool far
 * smaller than the pages in use (the scenario caps it). The child maps
 * MAP_PAGES pages of large.txt and dirties them all, then stamps
 * ANON_PAGES fresh pages of its own, ANON_ROUNDS times: its faults evict,
 * mostly the dirty mapped pages, which are written back to the file. The
 * parent waits until the child has its mapping in memory (the child
 * creates GO_FILE then), then read()s large.txt into fresh memory,
 * READ_ROUNDS times.
 * A correct kernel writes victims out without the VM lock and copies
 * read() data with no file-system lock held, so both finish. A kernel
 * that writes victims back under the VM lock and holds the file-system
 * lock across read() (mutant lock-order-read-evict) deadlocks in
 * eviction: the evicting child holds the VM lock and waits for the
 * file-system lock, which the reading parent holds while its page fault
 * waits for the VM lock. The scenario dl-evict makes the parent yield at
 * each of its page faults (where a timer interrupt could land), so the
 * child evicts while the parent is inside read() (docs/mutants.md). */
#include "deadlock.h"

#define MAP_PAGES 8
#define ANON_PAGES 64
#define ANON_ROUNDS 4
#define READ_PAGES 8
#define READ_ROUNDS 8
#define GO_FILE "dl-evict-go"
#define GO_SHORT_TRIES 300        /* the reference kernel's child is done in 67 */
#define GO_SHORT_SPIN 200000      /* ~1M instructions between two open()s */
#define GO_LONG_TRIES 400         /* then ~40 s of guest time, under the timeout */
#define GO_LONG_SPIN 20000000     /* ~100M instructions between two open()s */
#define MAP_ADDR ((char *)0x10000000)

char read_buf[READ_ROUNDS][READ_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));
char anon_buf[ANON_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

static int evictor(void) {
  int fd = open_or_fail("large.txt");
  char *map = mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 1, fd, 0);
  if (map != MAP_ADDR)
    fail("mmap of \"large.txt\" returned %p", map);
  for (size_t i = 0; i < MAP_PAGES; i++)
    ((volatile char *)map)[i * PGSIZE + 200] = map[i * PGSIZE + 200];   /* dirty, same byte */
  if (!create(GO_FILE, 0))
    fail("create \"%s\" failed", GO_FILE);
  for (int round = 0; round < ANON_ROUNDS; round++) {
    char tag[8];
    snprintf(tag, sizeof tag, "r%d", round);
    if (round > 0) {
      char prev[8];
      snprintf(prev, sizeof prev, "r%d", round - 1);
      check_stamps_text(anon_buf, ANON_PAGES, prev, "in the child");
    }
    stamp_pages_text(anon_buf, ANON_PAGES, tag);
  }
  munmap(map);
  close(fd);
  return 0;
}

/* Waits until the child has created GO_FILE: an open() now and then, with
 * computing in between, so that the timer preempts the parent outside the
 * file system and the child gets the file-system lock. First
 * GO_SHORT_TRIES polls ~1M instructions apart: the child is seen soon
 * after it creates the file (it then evicts while the parent read()s,
 * the interleaving that deadlocks mutant lock-order-read-evict across the
 * two processes). Then polls that outlast a time slice (Pintos: 4 ticks
 * of 10 ms; ~100 ms here under -icount shift=0): a kernel need not hand a
 * released lock to its waiter, and a thread's slice starts again each
 * time it blocks, so with short polls, each open() waiting for the disk,
 * the parent could take the lock again before its slice ever ran out and
 * the ready child never got it (2wheeh and qkrwns1478: 30 s of guest
 * time, 163,000 sector reads, no progress; kernels that pass every
 * Pintos test). */
static void wait_for_child(void) {
  for (int try = 0; try < GO_SHORT_TRIES + GO_LONG_TRIES; try++) {
    int fd = open(GO_FILE);
    if (fd > 1) {
      close(fd);
      return;
    }
    int spin_cnt = try < GO_SHORT_TRIES ? GO_SHORT_SPIN : GO_LONG_SPIN;
    for (volatile int spin = 0; spin < spin_cnt; spin++)
      continue;
  }
  fail("the child did not create \"%s\"", GO_FILE);
}

static void reader(void) {
  for (int round = 0; round < READ_ROUNDS; round++)
    read_large_into(read_buf[round], READ_PAGES * PGSIZE, round);
}

int main(void) {
  msg("begin");
  pid_t pid = fork("dl-evict-child");
  if (pid == 0)
    exit(evictor());
  if (pid < 0)
    fail("fork failed");
  wait_for_child();
  reader();
  int status = wait(pid);
  if (status != 0)
    fail("the child exited with %d, expected 0", status);
  msg("%d reads done while the child evicted", READ_ROUNDS);
  msg("end");
  return 0;
}
