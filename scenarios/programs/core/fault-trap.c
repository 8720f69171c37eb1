/* fault-trap VARIANT: an exception a user program raises on purpose, through
 * an IDT gate that allows user mode (DPL 3, as Pintos-KAIST registers them):
 *   int3   the one-byte breakpoint instruction (0xcc): #BP, vector 3
 *   int-3  the two-byte form, int $3 (0xcd 0x03): #BP, vector 3
 *   int-4  int $4: #OF, vector 4
 * Through a gate with DPL 0 each would be a general protection fault
 * (vector 13) instead. The kernel must end the process: expected
 * "fault-trap: exit(-1)"; the scenarios' killed_by checks the vector. If
 * the instruction returns, prints "(fault-trap) FAIL: ..." and exits 1. */
#include "vmuser.h"

int main(int argc, char **argv) {
  if (argc != 2)
    fail("usage: fault-trap int3|int-3|int-4");
  const char *v = argv[1];
  msg("executing '%s' in user mode", v);
  if (strcmp(v, "int3") == 0) {
    __asm__ volatile("int3" ::: "memory");
  } else if (strcmp(v, "int-3") == 0) {
    __asm__ volatile(".byte 0xcd, 0x03" ::: "memory");
  } else if (strcmp(v, "int-4") == 0) {
    __asm__ volatile("int $4" ::: "memory");
  } else {
    fail("unknown variant '%s' (int3|int-3|int-4)", v);
  }
  fail("%s returned; the process should have been killed", v);
}
