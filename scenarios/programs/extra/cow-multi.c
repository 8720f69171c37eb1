/* cow-multi: copy-on-write after fork, several pages, both sides writing
 * while both are alive. The parent stamps the 8 pages of cow_buf ("cow"),
 * forks "cow-kid" and writes new stamps ("par") into pages 4-7; the child
 * reads all 8 pages and writes its own stamps ("kid") into pages 0-3. A
 * flag file ("cow.flag") keeps the child alive until the parent has
 * written, so every write happens while the frame is shared: each writer
 * must get a frame of its own, and neither side sees the other's writes.
 * The child's lines are named "(cow-kid)"; they interleave with the
 * parent's.
 * Checkpoint 1: parent, before fork; the 8 pages present and writable.
 * Checkpoint 2: child, after reading all 8 pages; each present, not
 *   writable in hardware, on the same frame as at checkpoint 1.
 * Checkpoint 3: child, after writing pages 0-3; those are writable and on
 *   frames other than at checkpoint 1; pages 4-7 still on the checkpoint-1
 *   frames.
 * Checkpoint 4: parent, after writing pages 4-7; those are writable and on
 *   new frames; pages 0-3 on the checkpoint-1 frames.
 * Checkpoint 5: parent, after wait; pages 0-3 on the checkpoint-1 frames,
 *   reading "cow-0000".."cow-0003"; pages 4-7 read "par-0004".."par-0007". */
#include "extra.h"

#define COW_PAGES 8
#define HALF (COW_PAGES / 2)
#define FLAG_FILE "cow.flag"

char cow_buf[COW_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* Fails unless pages FIRST..FIRST+N-1 of cow_buf hold TAG's stamps. */
static void check_range(size_t first, size_t n, const char *tag,
                        const char *when) {
  for (size_t i = first; i < first + n; i++)
    if (!page_has_stamp(cow_buf + i * PGSIZE, tag, i))
      fail("page %zu does not hold \"%s-%04zu\" %s", i, tag, i, when);
}

/* Stamps pages FIRST..FIRST+N-1 of cow_buf for TAG. */
static void stamp_range(size_t first, size_t n, const char *tag) {
  for (size_t i = first; i < first + n; i++)
    stamp_page(cow_buf + i * PGSIZE, tag, i);
}

static void child(void) {
  test_name = "cow-kid";
  check_range(0, COW_PAGES, "cow", "in the child");
  msg("all %d pages hold the parent's stamps", COW_PAGES);
  checkpoint_at(2, (uintptr_t)cow_buf);
  stamp_range(0, HALF, "kid");
  check_range(0, HALF, "kid", "after the child's writes");
  msg("wrote pages 0-%d", HALF - 1);
  checkpoint_at(3, (uintptr_t)cow_buf);
  wait_for_flag(FLAG_FILE, '2');
  check_range(HALF, HALF, "cow", "in the child after the parent's writes");
  msg("pages %d-%d keep the stamps from before fork", HALF, COW_PAGES - 1);
  exit(0);
}

int main(void) {
  msg("begin");
  create_filled(FLAG_FILE, 1, '0');
  stamp_range(0, COW_PAGES, "cow");
  checkpoint_at(1, (uintptr_t)cow_buf);
  pid_t pid = fork("cow-kid");
  if (pid == 0)
    child();
  if (pid == PID_ERROR)
    fail("fork failed");
  stamp_range(HALF, HALF, "par");
  check_range(HALF, HALF, "par", "after the parent's writes");
  msg("wrote pages %d-%d", HALF, COW_PAGES - 1);
  checkpoint_at(4, (uintptr_t)cow_buf);
  set_flag(FLAG_FILE, '2');
  int status = wait(pid);
  CHECK(status == 0, "cow-kid exited with %d", status);
  check_range(0, HALF, "cow", "in the parent after wait");
  msg("pages 0-%d keep the stamps from before fork", HALF - 1);
  checkpoint_at(5, (uintptr_t)cow_buf);
  msg("end");
  return 0;
}
