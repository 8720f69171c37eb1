/* fork-code: a forked child runs code its parent never ran. cold_code()
 * sits alone on a page of its own (page-aligned, padded to the next page
 * boundary) and the parent never calls it, nor checkpoint() before the
 * fork (checkpoint() too has a page of its own), so on a lazy kernel both
 * pages are still unloaded in the parent when it forks. The child must
 * get them as the parent has them, to be loaded from the executable at
 * its first fault, not as blank pages. (Seen on a student kernel: the
 * child's copy of a never-loaded code page was zero-filled, so the child
 * died at its first instruction there with exit(-1).) Pintos-KAIST's
 * fork tests run code the parent has already run.
 * Checkpoint 1: the child, first thing (its checkpoint() page was never
 *   loaded in the parent); cold_code's page is valid in the child.
 * Checkpoint 2: the child, after calling cold_code: its page is present,
 *   read-only, and holds the executable's bytes.
 * Checkpoint 3: the parent, after wait: cold_code's page is still lazy
 *   (the child's load did not reach the parent). */
#include "extra.h"

#define COLD_VALUE 0x600dc0de

/* Returns COLD_VALUE; alone on its page. */
int cold_code(void);
__asm__(".pushsection .text.fork_cold, \"ax\", @progbits\n"
        ".balign 4096\n"
        ".globl cold_code\n"
        ".type cold_code, @function\n"
        "cold_code:\n"
        "  mov $0x600dc0de, %eax\n"
        "  ret\n"
        ".size cold_code, . - cold_code\n"
        ".balign 4096, 0xcc\n"
        ".popsection\n");

int main(void) {
  msg("begin");
  pid_t pid = fork("fork-kid");
  if (pid == 0) {
    checkpoint_at(1, (uintptr_t)cold_code);
    int value = cold_code();
    if (value != COLD_VALUE)
      fail("child: cold_code returned %#x, expected %#x", value, COLD_VALUE);
    msg("child: cold_code returned %#x", value);
    checkpoint_at(2, (uintptr_t)cold_code);
    exit(0);
  }
  if (pid == PID_ERROR)
    fail("fork failed");
  int status = wait(pid);
  CHECK(status == 0, "fork-kid exited with %d", status);
  checkpoint_at(3, (uintptr_t)cold_code);
  msg("end");
  return 0;
}
