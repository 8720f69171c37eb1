/* cow-evict: copy-on-write sharing under memory pressure. The scenario
 * caps the user pool at 40 frames. The parent stamps the 64 pages of
 * ce_buf ("ce"), forks "ce-kid" and waits. The child reads all 64 pages
 * (frames shared with the parent are evicted and come back while shared:
 * both processes' mappings must follow), writes its own stamps ("kid")
 * into the even pages and checks all 64 again. After wait, the parent
 * must see its own 64 stamps. Output is ordered: the parent waits at once.
 * Checkpoint 1: parent, before fork; ce_buf page 0 valid; at least 16
 *   swap slots used.
 * Checkpoint 2: child, after its checks; all 64 pages valid; the last page
 *   present and reading "ce-0063".
 * Checkpoint 3: parent, after its checks; all 64 pages valid; the last
 *   page present and reading "ce-0063". */
#include "extra.h"

#define CE_PAGES 64

char ce_buf[CE_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* Fails unless each page holds "kid" (even pages, if KID_EVEN) or "ce". */
static void check_all(bool kid_even, const char *when) {
  for (size_t i = 0; i < CE_PAGES; i++) {
    const char *tag = kid_even && i % 2 == 0 ? "kid" : "ce";
    if (!page_has_stamp(ce_buf + i * PGSIZE, tag, i))
      fail("page %zu does not hold \"%s-%04zu\" %s (it starts \"%.15s\")", i,
           tag, i, when, ce_buf + i * PGSIZE);
  }
}

static void child(void) {
  check_all(false, "in the child");
  msg("child: all %d stamps inherited", CE_PAGES);
  for (size_t i = 0; i < CE_PAGES; i += 2)
    stamp_page(ce_buf + i * PGSIZE, "kid", i);
  check_all(true, "after the child's writes");
  msg("child: even pages rewritten, odd pages shared");
  checkpoint_at(2, (uintptr_t)ce_buf);
  exit(0);
}

int main(void) {
  msg("begin");
  stamp_pages_text(ce_buf, CE_PAGES, "ce");
  checkpoint_at(1, (uintptr_t)ce_buf);
  pid_t pid = fork("ce-kid");
  if (pid == 0)
    child();
  if (pid == PID_ERROR)
    fail("fork failed");
  int status = wait(pid);
  CHECK(status == 0, "ce-kid exited with %d", status);
  check_all(false, "in the parent after wait");
  msg("parent: all %d stamps intact", CE_PAGES);
  checkpoint_at(3, (uintptr_t)ce_buf);
  msg("end");
  return 0;
}
