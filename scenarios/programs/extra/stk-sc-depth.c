/* stk-sc-depth: the first touch of a stack page happens inside a system
 * call, several pages below the part of the stack used so far. main keeps
 * a 41-page (164 KiB) buffer on its stack, so rsp lies below all of it
 * and every byte of it is a legal stack address, but no page of it is
 * touched before the call. The kernel's own access to the user buffer
 * faults, and the kernel must grow the stack using the user rsp saved at
 * system-call entry (the rsp at the fault is a kernel address).
 *   stk-sc-depth N      N = 1..40: read() the page of large.txt at offset
 *                       N * PGSIZE into the page N pages below the buffer's
 *                       top page (the suite uses 1, 2, 8 and 32)
 *   stk-sc-depth span   read() 5 pages at once (large.txt from offset
 *                       8 * PGSIZE) into the 5 pages from 8 below the top
 *   stk-sc-depth write  write() the untouched page 8 below the top to the
 *                       file "stkout" (created full of 'x'): the kernel
 *                       reads the page, which must come up zero-filled, so
 *                       stkout ends up all zeros
 *   stk-sc-depth below  read() into the page 16 pages below the current
 *                       rsp (within 1 MB of USER_STACK, far below rsp): not
 *                       a stack access; the process is killed (exit(-1)),
 *                       or read() fails and the page stays unloaded
 * Checkpoint 1: before the call; probe = the first target page; the
 *   target pages are unmapped (neither PTE nor SPT entry).
 * Checkpoint 2 (not `below`): after the call; the target pages are
 *   present, writable, and hold large.txt from the offset given above (all
 *   zeros for `write`). */
#include "../vm/textdata.h"

#include "extra.h"

#define BUF_PAGES 41
#define SPAN_PAGES 5
#define SPAN_DEPTH 8
#define BELOW_RSP_PAGES 16

/* What one run does: read PAGES pages of large.txt from FILE_OFS into
 * TARGET, or write one page from TARGET to stkout (WRITE_OUT). */
struct sc_plan {
  char *target;
  size_t pages;
  size_t file_ofs;
  bool write_out;
};

/* read()s the plan's pages of large.txt into its target; returns what
 * read() returned. */
static int read_into_stack(const struct sc_plan *plan) {
  int fd = open_or_fail("large.txt");
  seek(fd, (unsigned)plan->file_ofs);
  int n = read(fd, plan->target, (unsigned)(plan->pages * PGSIZE));
  close(fd);
  return n;
}

/* write()s the plan's (untouched) target page over stkout. */
static void write_from_stack(const struct sc_plan *plan) {
  create_filled("stkout", PGSIZE, 'x');
  int fd = open_or_fail("stkout");
  CHECK(write(fd, plan->target, PGSIZE) == PGSIZE,
        "write() an untouched stack page to \"stkout\"");
  close(fd);
  CHECK(first_nonzero(plan->target, PGSIZE) == PGSIZE,
        "the stack page reads as zeros");
}

/* The `below` variant: never returns normally if the kernel kills. */
static void read_below_rsp(void) {
  struct sc_plan plan = {0};
  plan.target = (char *)(PAGE_ROUND_DOWN(current_rsp()) -
                         BELOW_RSP_PAGES * PGSIZE);
  plan.pages = 1;
  checkpoint_at(1, (uintptr_t)plan.target);
  msg("read() into a page %d pages below rsp", BELOW_RSP_PAGES);
  int n = read_into_stack(&plan);
  if (n != -1)
    fail("read() below rsp returned %d", n);
  if (page_loaded(plan.target))
    fail("read() below rsp failed but the page was loaded");
  msg("read() below rsp fails; the page is not loaded");
}

int main(int argc, char **argv) {
  char buf[BUF_PAGES * PGSIZE];
  const char *mode = argc > 1 ? argv[1] : "1";
  char *top = (char *)PAGE_ROUND_DOWN(buf + sizeof buf);
  struct sc_plan plan = {.pages = 1};

  msg("begin");
  if (strcmp(mode, "below") == 0) {
    read_below_rsp();
    msg("end");
    return 0;
  }
  size_t depth = strcmp(mode, "span") == 0 || strcmp(mode, "write") == 0
                     ? SPAN_DEPTH
                     : (size_t)atoi(mode);
  if (depth < 1 || depth >= BUF_PAGES)
    fail("bad argument \"%s\"", mode);
  plan.target = top - depth * PGSIZE;
  plan.file_ofs = depth * PGSIZE;
  plan.pages = strcmp(mode, "span") == 0 ? SPAN_PAGES : 1;
  plan.write_out = strcmp(mode, "write") == 0;

  checkpoint_at(1, (uintptr_t)plan.target);
  if (plan.write_out) {
    write_from_stack(&plan);
  } else {
    int n = read_into_stack(&plan);
    CHECK(n == (int)(plan.pages * PGSIZE),
          "read() %zu page(s) into untouched stack %zu pages down",
          plan.pages, depth);
    size_t bad = text_mismatch("large", plan.file_ofs, plan.target,
                               plan.pages * PGSIZE);
    if (bad != plan.pages * PGSIZE)
      fail("stack byte %zu differs from large.txt", bad);
    msg("the stack pages hold the bytes read");
  }
  checkpoint_at(2, (uintptr_t)plan.target);
  msg("end");
  return 0;
}
