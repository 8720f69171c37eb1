/* stk-slack: the stack rule's line, probed on both sides byte by byte. A
 * fault below rsp is a stack access only at rsp - 8 (where a push faults)
 * or above. For each distance K from 8 to 64 the parent forks a child
 * ("slack-kid") that moves rsp to a page boundary 16 pages below the stack
 * in use and stores one byte at rsp - K, in the untouched page below (no
 * calls while rsp is moved). At K = 8 the stack must grow and the child
 * exits 0; at every K from 9 to 64 the kernel must end the child with
 * exit(-1). The parent fails at the first child that ends otherwise,
 * naming K and what a correct kernel would have done.
 * Checkpoint 1: slack-kid K = 8, after its store; probe = the byte
 *   stored; its page present, writable, anonymous.
 * Checkpoint 2: parent, after every child; probe = the page below its own
 *   boundary, which no child's growth reached: unmapped. */
#include "extra.h"

#define SLACK_PAGES 16
#define PUSH_SLACK 8
#define LAST_PROBE 64

/* Stores one byte at BOUNDARY - K with rsp = BOUNDARY, then puts rsp back. */
static void store_below(uintptr_t boundary, uintptr_t k) {
  __asm__ volatile("mov %%rsp, %%r11\n\t"
                   "mov %0, %%rsp\n\t"
                   "movb $0x5a, (%1)\n\t"
                   "mov %%r11, %%rsp"
                   :
                   : "r"(boundary), "r"(boundary - k)
                   : "r11", "memory");
}

/* The child for distance K: exits 0 if its store worked. */
static void probe_child(uintptr_t boundary, int k) {
  test_name = "slack-kid";
  store_below(boundary, (uintptr_t)k);
  if (k == PUSH_SLACK)
    checkpoint_at(1, boundary - PUSH_SLACK);
  exit(0);
}

/* Runs the child for distance K; fails unless it ended as a correct kernel
 * ends it. */
static void probe_distance(uintptr_t boundary, int k) {
  pid_t pid = fork("slack-kid");
  if (pid == 0)
    probe_child(boundary, k);
  if (pid == PID_ERROR)
    fail("fork for rsp - %d failed", k);
  int status = wait(pid);
  if (k <= PUSH_SLACK && status != 0)
    fail("a store %d bytes below rsp ended the process with %d: a correct "
         "kernel grows the stack there (a push faults 8 bytes below rsp)",
         k, status);
  if (k > PUSH_SLACK && status != -1)
    fail("a store %d bytes below rsp grew the stack (exit %d): a correct "
         "kernel ends the process with exit(-1), only rsp - 8 and above is "
         "a stack access", k, status);
}

int main(void) {
  msg("begin");
  uintptr_t boundary = PAGE_ROUND_DOWN(current_rsp()) - SLACK_PAGES * PGSIZE;
  probe_distance(boundary, PUSH_SLACK);
  msg("a store at rsp - %d grew the stack", PUSH_SLACK);
  for (int k = PUSH_SLACK + 1; k <= LAST_PROBE; k++)
    probe_distance(boundary, k);
  msg("a store at each of rsp - %d .. rsp - %d ended the process",
      PUSH_SLACK + 1, LAST_PROBE);
  checkpoint_at(2, boundary - PGSIZE);
  msg("end");
  return 0;
}
