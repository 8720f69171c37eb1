/* dl-wait: a parent waits for a child whose exit needs what the parent
 * holds while it waits. The parent forks "dl-wait-child" and waits for it
 * at once. The child first computes for longer than a time slice (so the
 * parent, preempted in turn, is inside wait() before the child goes on:
 * after fork the child runs first), then reads a file (the file system),
 * stamps a few pages and exits with status 42, closing its files (the
 * file system again).
 * A correct kernel holds no lock across wait(), so the child exits and
 * the parent sees 42. A kernel whose wait() sleeps holding a lock that
 * exit or the file system needs (mutant wait-holds-fs-lock: the
 * file-system lock) deadlocks: the parent waits for the child's exit, the
 * child waits for the parent's lock (scenario dl-wait, docs/mutants.md). */
#include "../extra/extra.h"

#define CHILD_PAGES 4
#define BUSY_PASSES 800    /* ~80M instructions: 8 timer ticks, 2 time slices */

char child_buf[CHILD_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* A checksum of BUF, BUSY_PASSES times over: CPU work without system calls. */
static unsigned busy_work(const char *buf, size_t size) {
  unsigned sum = 0;
  for (int pass = 0; pass < BUSY_PASSES; pass++)
    for (size_t i = 0; i < size; i++)
      sum = sum * 31 + (unsigned char)buf[i] + (unsigned)pass;
  return sum;
}

static int child(void) {
  volatile unsigned sink = busy_work(child_buf, sizeof child_buf);
  (void)sink;
  int fd = open_or_fail("small.txt");
  char head[64];
  CHECK(read(fd, head, sizeof head) == (int)sizeof head, "read 64 bytes of \"small.txt\"");
  stamp_pages_text(child_buf, CHILD_PAGES, "child");
  check_stamps_text(child_buf, CHILD_PAGES, "child", "in the child");
  close(fd);
  return 42;
}

int main(void) {
  msg("begin");
  pid_t pid = fork("dl-wait-child");
  if (pid == 0)
    exit(child());
  if (pid < 0)
    fail("fork failed");
  int status = wait(pid);
  if (status != 42)
    fail("wait returned %d, expected the child's 42", status);
  msg("the child exited with 42");
  msg("end");
  return 0;
}
