/* cow-simple: copy-on-write fork. A page of initialized data is loaded in
 * the parent; after fork the child's page must share the parent's frame
 * (get_phys_addr returns the same kernel address) until the child writes
 * it, after which the child has a frame of its own and the parent's page
 * keeps its frame and its bytes.
 * Pintos-KAIST: tests/vm/cow/cow-simple (extra credit there). Output
 * strictly ordered: the parent waits while the child runs.
 * Checkpoint 1: parent, before fork; cow_page present.
 * Checkpoint 2: child, before its write; cow_page present, not writable,
 *   frame same as at checkpoint 1.
 * Checkpoint 3: child, after its write; cow_page present, writable, frame
 *   differs from checkpoint 1.
 * Checkpoint 4: parent, after wait; cow_page present, frame same as at
 *   checkpoint 1. */
#include "vmtest.h"

#define COW_TEXT "cow-simple: initialized data, shared after fork"
#define COW_LEN (sizeof COW_TEXT - 1)

char cow_page[PGSIZE] __attribute__((aligned(PGSIZE))) = COW_TEXT;

/* Runs in the forked child; exits 0 if every check passes. */
static void child(uint64_t parent_frame) {
  CHECK(memcmp(cow_page, COW_TEXT, COW_LEN) == 0,
        "child: data page holds its initial bytes");
  CHECK(get_phys_addr(cow_page) == parent_frame,
        "child: data page shares the parent's frame");
  checkpoint(2);
  cow_page[0] = '@';
  CHECK(cow_page[0] == '@' &&
            memcmp(cow_page + 1, COW_TEXT + 1, COW_LEN - 1) == 0,
        "child: write to the data page");
  CHECK(get_phys_addr(cow_page) != parent_frame,
        "child: data page has a frame of its own after the write");
  checkpoint(3);
  exit(0);
}

int main(void) {
  msg("begin");
  CHECK(memcmp(cow_page, COW_TEXT, COW_LEN) == 0,
        "data page holds its initial bytes");
  uint64_t frame = get_phys_addr(cow_page);
  CHECK(frame != 0, "data page is loaded");
  checkpoint(1);

  pid_t pid = fork("cow-child");
  if (pid == 0)
    child(frame);
  if (pid == PID_ERROR)
    fail("fork failed");
  int status = wait(pid);
  if (status != 0)
    fail("cow-child exited with %d, expected 0", status);
  msg("cow-child exited with 0");
  CHECK(get_phys_addr(cow_page) == frame, "parent: data page keeps its frame");
  CHECK(memcmp(cow_page, COW_TEXT, COW_LEN) == 0,
        "parent: data page keeps its bytes");
  checkpoint(4);
  msg("end");
  return 0;
}
