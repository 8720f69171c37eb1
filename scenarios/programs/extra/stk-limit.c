/* stk-limit: where the stack may grow. The stack may take up to 1 MB
 * below USER_STACK, and a fault there is a stack access only at or above
 * rsp - 8 (a push). The program moves rsp itself (inline assembly, no
 * calls while it is moved) to touch exact addresses:
 *   stk-limit at     push 8 bytes with rsp = USER_STACK - 1 MB + 8: the
 *                    lowest 8 bytes of the 1 MB stack; must work
 *   stk-limit below  the same, then push with rsp = USER_STACK - 1 MB:
 *                    8 bytes into the page below the limit; exit(-1)
 *   stk-limit far    store 64 KiB below rsp (inside the 1 MB): not a
 *                    stack access; exit(-1)
 *   stk-limit rsp8   with rsp moved to a page boundary 16 pages below the
 *                    stack in use, store at exactly rsp - 8 (a mov, not a
 *                    push): a stack access; must work
 *   stk-limit top    store at USER_STACK - 1 (the top byte of the stack):
 *                    must work; then at USER_STACK, just above the stack,
 *                    far above rsp: not a stack access; exit(-1)
 * Checkpoint 1: before the access; probe = the address to be touched; its
 *   page is unmapped.
 * Checkpoint 2 (at, below, rsp8): after the access; that page is present,
 *   writable, anonymous, and its 8 bytes read "STACK-OK".
 * Checkpoint 3 (below): before the push below the limit; probe = its
 *   address; that page is unmapped.
 * Checkpoint 4 (top): before the store at USER_STACK; probe = USER_STACK,
 *   unmapped. */
#include "extra.h"

#define STACK_LIMIT (1024 * 1024)
#define FAR_BELOW (64 * 1024)
#define RSP8_PAGES 16
#define STACK_OK 0x4b4f2d4b43415453ull /* "STACK-OK" in memory order */

/* Pushes VALUE with rsp = NEW_RSP, then puts rsp back. */
static void push_with_rsp(uintptr_t new_rsp, uint64_t value) {
  __asm__ volatile("mov %%rsp, %%r11\n\t"
                   "mov %0, %%rsp\n\t"
                   "pushq %1\n\t"
                   "mov %%r11, %%rsp"
                   :
                   : "r"(new_rsp), "r"(value)
                   : "r11", "memory");
}

/* Stores VALUE at NEW_RSP - 8 with a mov while rsp = NEW_RSP. */
static void store_below_rsp(uintptr_t new_rsp, uint64_t value) {
  __asm__ volatile("mov %%rsp, %%r11\n\t"
                   "mov %0, %%rsp\n\t"
                   "movq %1, -8(%%rsp)\n\t"
                   "mov %%r11, %%rsp"
                   :
                   : "r"(new_rsp), "r"(value)
                   : "r11", "memory");
}

/* Touches the lowest 8 bytes of the 1 MB stack with a push; checks them
 * (checkpoints 1 and 2). */
static void push_at_limit(void) {
  uintptr_t addr = USER_STACK - STACK_LIMIT;
  checkpoint_at(1, addr);
  push_with_rsp(addr + 8, STACK_OK);
  CHECK(*(volatile uint64_t *)addr == STACK_OK,
        "push at USER_STACK - 1 MB works");
  checkpoint_at(2, addr);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "at";
  msg("begin");
  if (strcmp(mode, "at") == 0) {
    push_at_limit();
  } else if (strcmp(mode, "below") == 0) {
    push_at_limit();
    uintptr_t addr = USER_STACK - STACK_LIMIT - 8;
    checkpoint_at(3, addr);
    msg("push at USER_STACK - 1 MB - 8");
    push_with_rsp(addr + 8, STACK_OK);
    fail("push below the 1 MB stack limit worked");
  } else if (strcmp(mode, "far") == 0) {
    uintptr_t rsp = current_rsp();
    checkpoint_at(1, rsp - FAR_BELOW);
    msg("store 64 KiB below rsp");
    __asm__ volatile("movq %0, -65536(%%rsp)" : : "r"(STACK_OK) : "memory");
    fail("store 64 KiB below rsp worked");
  } else if (strcmp(mode, "rsp8") == 0) {
    uintptr_t new_rsp = PAGE_ROUND_DOWN(current_rsp()) - RSP8_PAGES * PGSIZE;
    checkpoint_at(1, new_rsp - 8);
    store_below_rsp(new_rsp, STACK_OK);
    CHECK(*(volatile uint64_t *)(new_rsp - 8) == STACK_OK,
          "store at rsp - 8 in a new page works");
    checkpoint_at(2, new_rsp - 8);
  } else if (strcmp(mode, "top") == 0) {
    volatile char *top = (volatile char *)USER_STACK;
    top[-1] = 'x';
    CHECK(top[-1] == 'x', "store at USER_STACK - 1 works");
    checkpoint_at(4, USER_STACK);
    top[0] = 'x';
    fail("store at USER_STACK (above the stack) worked");
  } else {
    fail("bad argument \"%s\"", mode);
  }
  msg("end");
  return 0;
}
