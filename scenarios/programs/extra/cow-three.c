/* cow-three: frames shared copy-on-write by three processes, in a chain of
 * forks so that every step is ordered by wait() (no process polls). The
 * parent stamps the 4 pages of cow3_buf ("cow") and forks "cow3-b", which
 * reads them and forks "cow3-a": each frame now has three sharers.
 *   cow3-a writes its own stamps ("kda") and exits: its copies leave each
 *     frame shared by the parent and cow3-b, so both must still map it
 *     read-only (a kernel that gave either write access back now would let
 *     it change the other's page).
 *   cow3-b, after cow3-a's exit, still sees "cow", then writes "kdb": a copy
 *     of its own; the parent is now each frame's only sharer.
 *   The parent, after cow3-b's exit, still sees "cow" on the frames it had
 *     before fork, and must have its write access back (no fault needed for
 *     the write that follows).
 * Checkpoint 1: parent, before fork; the pages present and writable.
 * Checkpoint 2: cow3-b, after cow3-a's exit; present, read-only in
 *   hardware, on the frames of checkpoint 1, holding "cow" (the invariant
 *   no_shared_frames: the parent's PTEs are read-only too).
 * Checkpoint 3: cow3-b, after its writes; writable, frames of its own.
 * Checkpoint 4: cow3-a, after its writes; writable, frames of its own.
 * Checkpoint 5: parent, after cow3-b's exit; on the frames of checkpoint 1,
 *   holding "cow", their only sharer (the invariant
 *   unshared_frame_writable: its W bit is back).
 * Checkpoint 6: parent, after its writes; writable, holding "par". */
#include "extra.h"

#define COW3_PAGES 4

char cow3_buf[COW3_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* Fails unless every page of cow3_buf holds TAG's stamp; WHY says what a
 * correct kernel would have done. */
static void check_all(const char *tag, const char *why) {
  for (size_t i = 0; i < COW3_PAGES; i++)
    if (!page_has_stamp(cow3_buf + i * PGSIZE, tag, i))
      fail("page %zu holds \"%.15s\", not \"%s-%04zu\": %s", i,
           cow3_buf + i * PGSIZE, tag, i, why);
}

/* Stamps every page for TAG and checks it; announces it. */
static void write_all(const char *tag) {
  stamp_pages_text(cow3_buf, COW3_PAGES, tag);
  check_all(tag, "a write lands in the writer's own page");
  msg("wrote pages 0-%d", COW3_PAGES - 1);
}

/* Forks NAME running BODY, waits for it; fails unless it exited 0. */
static void fork_and_wait(const char *name, void (*body)(void)) {
  pid_t pid = fork(name);
  if (pid == 0)
    body();
  if (pid == PID_ERROR)
    fail("fork \"%s\" failed", name);
  int status = wait(pid);
  CHECK(status == 0, "%s exited with %d", name, status);
}

static void third_sharer_a(void) {
  test_name = "cow3-a";
  write_all("kda");
  checkpoint_at(4, (uintptr_t)cow3_buf);
  exit(0);
}

static void second_sharer_b(void) {
  test_name = "cow3-b";
  check_all("cow", "a forked child sees its parent's pages");
  msg("all %d pages hold the parent's stamps", COW3_PAGES);
  fork_and_wait("cow3-a", third_sharer_a);
  check_all("cow", "another process's write must land in its own copy");
  msg("pages 0-%d kept the stamps from before fork", COW3_PAGES - 1);
  checkpoint_at(2, (uintptr_t)cow3_buf);
  write_all("kdb");
  checkpoint_at(3, (uintptr_t)cow3_buf);
  exit(0);
}

int main(void) {
  msg("begin");
  stamp_pages_text(cow3_buf, COW3_PAGES, "cow");
  checkpoint_at(1, (uintptr_t)cow3_buf);
  fork_and_wait("cow3-b", second_sharer_b);
  check_all("cow", "the children's writes must land in their own copies");
  msg("pages 0-%d kept the stamps from before fork", COW3_PAGES - 1);
  checkpoint_at(5, (uintptr_t)cow3_buf);
  write_all("par");
  checkpoint_at(6, (uintptr_t)cow3_buf);
  msg("end");
  return 0;
}
