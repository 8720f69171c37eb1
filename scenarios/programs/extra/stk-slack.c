/* stk-slack: the stack rule's line, probed on both sides byte by byte. A
 * fault below rsp is a stack access only at rsp - 8 (where a push faults)
 * or above. For each distance K from 8 to 64 the parent runs a child
 * ("stk-slack K", forked and exec'd) that moves rsp to a page boundary 16
 * pages below the stack in use and stores one byte at rsp - K, in the
 * untouched page below (no calls while rsp is moved). At K = 8 the stack
 * must grow and the child exits 0; at every K from 9 to 64 the kernel must
 * end the child with exit(-1). The parent fails at the first child that
 * ends otherwise, naming K and what a correct kernel would have done.
 * (The child execs rather than running in the forked copy, so that it
 * reads the disk, and gives the parent the CPU, before it can die: a
 * kernel whose fork reports a child that already exited with -1 as a
 * failed fork is caught by fork-pid-exit, and named here if it shows.)
 * Checkpoint 1: the child for K = 8, after its store; probe = the byte
 *   stored; its page present, writable, anonymous.
 * Checkpoint 2: parent, after every child; probe = the page below its own
 *   boundary, which no child's growth reached: unmapped. */
#include "extra.h"

#define SLACK_PAGES 16
#define PUSH_SLACK 8
#define LAST_PROBE 64

/* The page boundary 16 pages below the stack in use. */
static uintptr_t probe_boundary(void) {
  return PAGE_ROUND_DOWN(current_rsp()) - SLACK_PAGES * PGSIZE;
}

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
static int probe_child(int k) {
  uintptr_t boundary = probe_boundary();
  store_below(boundary, (uintptr_t)k);
  if (k == PUSH_SLACK)
    checkpoint_at(1, boundary - PUSH_SLACK);
  return 0;
}

/* Runs the child for distance K; fails unless it ended as a correct kernel
 * ends it. */
static void probe_distance(int k) {
  char cmdline[32];
  snprintf(cmdline, sizeof cmdline, "stk-slack %d", k);
  pid_t pid = fork("stk-slack");
  if (pid == 0) {
    exec(cmdline);
    fail("exec \"%s\" returned", cmdline);
  }
  if (pid == PID_ERROR)
    fail("fork for rsp - %d returned -1, so the stack rule could not be "
         "probed there (a kernel whose fork reports a child that already "
         "ended as a failure fails fork-pid-exit too)", k);
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

int main(int argc, char **argv) {
  if (argc > 1)
    return probe_child(atoi(argv[1]));
  msg("begin");
  probe_distance(PUSH_SLACK);
  msg("a store at rsp - %d grew the stack", PUSH_SLACK);
  for (int k = PUSH_SLACK + 1; k <= LAST_PROBE; k++)
    probe_distance(k);
  msg("a store at each of rsp - %d .. rsp - %d ended the process",
      PUSH_SLACK + 1, LAST_PROBE);
  checkpoint_at(2, probe_boundary() - PGSIZE);
  msg("end");
  return 0;
}
