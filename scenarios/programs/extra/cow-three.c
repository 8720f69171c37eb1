/* cow-three: frames shared copy-on-write by three processes. The parent
 * stamps the 4 pages of cow3_buf ("cow") and forks "cow3-b" and then
 * "cow3-a": each page's frame now has three sharers.
 *   cow3-a writes its own stamps ("kda") into the 4 pages and exits: its
 *     copies leave each frame shared by the parent and cow3-b, so both
 *     must still map it read-only.
 *   The parent, after cow3-a's exit, writes "par" stamps while cow3-b
 *     still shares the frames: it must get copies of its own, and cow3-b
 *     must not see its writes.
 *   cow3-b reads the 4 pages, waits for the parent's signal (the flag file
 *     "cow3.flag"), checks that it still sees "cow" (a kernel that gave
 *     the parent write access to a frame cow3-b shares would show it
 *     "par"), then writes "kdb" stamps: it is the frames' only sharer now.
 * Checkpoint 1: parent, before fork; the pages present and writable.
 * Checkpoint 2: parent, after cow3-a exited; the pages present, read-only
 *   in hardware, on the frames of checkpoint 1 (still shared with cow3-b).
 * Checkpoint 3: parent, after its writes; writable, frames of its own.
 * Checkpoint 4: cow3-a, after its writes; writable, frames of its own.
 * Checkpoint 5: cow3-b, after the parent's writes; the pages hold "cow" on
 *   the frames of checkpoint 1, of which it is now the only sharer (the
 *   invariant unshared_frame_writable: its W bit is back).
 * Checkpoint 6: cow3-b, after its writes; writable, holding "kdb". */
#include "extra.h"

#define COW3_PAGES 4
#define FLAG_FILE "cow3.flag"

char cow3_buf[COW3_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* Fails unless every page of cow3_buf holds TAG's stamp; WHY says what a
 * correct kernel would have done. */
static void check_all(const char *tag, const char *why) {
  for (size_t i = 0; i < COW3_PAGES; i++)
    if (!page_has_stamp(cow3_buf + i * PGSIZE, tag, i))
      fail("page %zu holds \"%.15s\", not \"%s-%04zu\": %s", i,
           cow3_buf + i * PGSIZE, tag, i, why);
}

static void writer_a(void) {
  test_name = "cow3-a";
  stamp_pages_text(cow3_buf, COW3_PAGES, "kda");
  check_all("kda", "a write must land in the writer's own copy");
  msg("wrote pages 0-%d", COW3_PAGES - 1);
  checkpoint_at(4, (uintptr_t)cow3_buf);
  exit(0);
}

static void last_sharer_b(void) {
  test_name = "cow3-b";
  check_all("cow", "a forked child sees its parent's pages");
  msg("all %d pages hold the parent's stamps", COW3_PAGES);
  wait_for_flag(FLAG_FILE, '1');
  check_all("cow", "a correct kernel gives each writer its own copy while "
                   "the frame is still shared, so no other process's "
                   "write shows here");
  msg("pages 0-%d kept the stamps from before fork", COW3_PAGES - 1);
  checkpoint_at(5, (uintptr_t)cow3_buf);
  stamp_pages_text(cow3_buf, COW3_PAGES, "kdb");
  check_all("kdb", "the last sharer writes its frame");
  msg("wrote pages 0-%d", COW3_PAGES - 1);
  checkpoint_at(6, (uintptr_t)cow3_buf);
  exit(0);
}

/* Forks NAME running BODY; returns its pid. */
static pid_t fork_running(const char *name, void (*body)(void)) {
  pid_t pid = fork(name);
  if (pid == 0)
    body();
  if (pid == PID_ERROR)
    fail("fork \"%s\" failed", name);
  return pid;
}

int main(void) {
  msg("begin");
  create_filled(FLAG_FILE, 1, '0');
  stamp_pages_text(cow3_buf, COW3_PAGES, "cow");
  checkpoint_at(1, (uintptr_t)cow3_buf);
  pid_t b = fork_running("cow3-b", last_sharer_b);
  pid_t a = fork_running("cow3-a", writer_a);
  int status = wait(a);
  CHECK(status == 0, "cow3-a exited with %d", status);
  check_all("cow", "a child's write must land in the child's own copy");
  checkpoint_at(2, (uintptr_t)cow3_buf);
  stamp_pages_text(cow3_buf, COW3_PAGES, "par");
  check_all("par", "a write must land in the writer's own copy");
  msg("wrote pages 0-%d while cow3-b still shares them", COW3_PAGES - 1);
  checkpoint_at(3, (uintptr_t)cow3_buf);
  set_flag(FLAG_FILE, '1');
  status = wait(b);
  CHECK(status == 0, "cow3-b exited with %d", status);
  check_all("par", "the children's writes must not show in the parent");
  msg("end");
  return 0;
}
