/* cow-simple: copy-on-write fork. A page of initialized data is loaded in
 * the parent; after fork the child's page must share the parent's frame
 * (get_phys_addr returns the same kernel address) until the child writes
 * it, after which the child has a frame of its own and the parent's page
 * keeps its frame and its bytes.
 * Pintos-KAIST: tests/vm/cow/cow-simple (extra credit there), step for
 * step: the child checks, writes, checks, prints its own "end" and exits
 * 0; the parent waits without looking at the status (a child that failed
 * shows in the output) and checks its page. Pintos-KAIST's program keeps
 * that page at the start of a 2 MB compiled-in copy of large.txt, so the
 * fork also copies that many never-touched data pages: here 2 MiB of
 * program data (exeblob.h), never read. Output strictly ordered: the
 * parent waits while the child runs.
 * Checkpoint 1: parent, before fork; cow_page present.
 * Checkpoint 2: child, before its write; cow_page present, not writable,
 *   frame same as at checkpoint 1.
 * Checkpoint 3: child, after its write; cow_page present, writable, frame
 *   differs from checkpoint 1; its bytes are '@' and then the rest of
 *   COW_TEXT.
 * Checkpoint 4: parent, after wait; cow_page present, frame same as at
 *   checkpoint 1, holding COW_TEXT. */
#include "exeblob.h"
#include "vmtest.h"

#define COW_TEXT "cow-simple: initialized data, shared after fork"
#define COW_LEN (sizeof COW_TEXT - 1)

char cow_page[PGSIZE] __attribute__((aligned(PGSIZE))) = COW_TEXT;

int main(void) {
  msg("begin");
  CHECK(memcmp(cow_page, COW_TEXT, COW_LEN) == 0,
        "data page holds its initial bytes");
  uint64_t frame = get_phys_addr(cow_page);
  checkpoint(1);

  pid_t pid = fork("cow-child");
  if (pid == 0) {
    CHECK(memcmp(cow_page, COW_TEXT, COW_LEN) == 0,
          "child: data page holds its initial bytes");
    CHECK(get_phys_addr(cow_page) == frame,
          "child: data page shares the parent's frame");
    checkpoint(2);
    cow_page[0] = '@';
    CHECK(memcmp(cow_page, COW_TEXT, COW_LEN) != 0,
          "child: the write changed the data page");
    CHECK(get_phys_addr(cow_page) != frame,
          "child: data page has a frame of its own after the write");
    checkpoint(3);
    msg("end");
    exit(0);
  }
  wait(pid);
  CHECK(get_phys_addr(cow_page) == frame, "parent: data page keeps its frame");
  CHECK(memcmp(cow_page, COW_TEXT, COW_LEN) == 0,
        "parent: data page keeps its bytes");
  checkpoint(4);
  msg("end");
  return 0;
}
