/* fault-priv VARIANT: a privileged instruction in user mode (#GP).
 *   hlt, cli, cr3 (mov to cr3), in (port I/O read from port 0x64)
 * The kernel must end the process: expected "fault-priv: exit(-1)". If the
 * instruction completes, prints "(fault-priv) FAIL: ..." and exits 1. */
#include "vmuser.h"

int main(int argc, char **argv) {
  if (argc != 2)
    fail("usage: fault-priv hlt|cli|cr3|in");
  const char *v = argv[1];
  msg("executing '%s' in user mode", v);
  if (strcmp(v, "hlt") == 0) {
    __asm__ volatile("hlt");
  } else if (strcmp(v, "cli") == 0) {
    __asm__ volatile("cli" ::: "memory");
  } else if (strcmp(v, "cr3") == 0) {
    __asm__ volatile("mov %0, %%cr3" : : "r"(0UL) : "memory");
  } else if (strcmp(v, "in") == 0) {
    uint8_t value;
    __asm__ volatile("inb $0x64, %0" : "=a"(value));
    msg("inb returned 0x%x", value);
  } else {
    fail("unknown variant '%s' (hlt|cli|cr3|in)", v);
  }
  fail("%s did not kill the process", v);
}
