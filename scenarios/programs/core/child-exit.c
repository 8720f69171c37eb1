/* child-exit: `child-exit N` exits with status N (atoi); without an
 * argument it exits 0. Used by forktree. Prints nothing itself; the kernel
 * prints "child-exit: exit(N)". */
#include "vmuser.h"

int main(int argc, char **argv) {
  return argc > 1 ? atoi(argv[1]) : 0;
}
