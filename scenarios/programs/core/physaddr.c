/* physaddr: the get_phys_addr (int 0x42) test hook.
 * For a data word, a stack word and the code of main (all touched first,
 * so present even under lazy loading) the result must be a page-aligned
 * kernel address (>= KERN_BASE); data and stack must be different frames;
 * an unmapped address (0x10000000) must give 0. Prints one line per
 * address with the frame's kernel address ("(physaddr) data 0x404000 ->
 * frame 0x8004123000"), which the host may compare with its own page-table
 * walk. Expected: "(physaddr) begin" ... "(physaddr) end", exit 0; any
 * failed check: FAIL line, exit 1. */
#include "vmuser.h"

static volatile int data_word = 42;

/* Looks up VA, prints the mapping and checks that it is a frame. */
static uint64_t check_frame(const char *what, const volatile void *va) {
  uint64_t kva = get_phys_addr((const void *)va);
  msg("%s %p -> frame 0x%lx", what, (const void *)va, (unsigned long)kva);
  if (kva == 0)
    fail("%s: get_phys_addr returned 0 for a present page", what);
  if (kva % PGSIZE != 0)
    fail("%s: frame address 0x%lx is not page-aligned", what,
         (unsigned long)kva);
  if (kva < KERN_BASE)
    fail("%s: frame address 0x%lx is below KERN_BASE", what,
         (unsigned long)kva);
  return kva;
}

int main(void) {
  test_name = "physaddr";
  msg("begin");
  data_word++;
  volatile int stack_word = data_word;
  uint64_t data = check_frame("data", &data_word);
  uint64_t stack = check_frame("stack", &stack_word);
  check_frame("code", (const void *)(uintptr_t)&main);
  CHECK(data != stack, "data and stack are in different frames");
  uint64_t none = get_phys_addr((const void *)0x10000000UL);
  CHECK(none == 0, "unmapped 0x10000000 -> 0x%lx (expected 0)",
        (unsigned long)none);
  msg("end");
  return 0;
}
