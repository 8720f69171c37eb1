/* hello: the smallest program.
 * Expected output: the line "Hello, world!"; exit status 0. */
#include "vmuser.h"

int main(void) {
  printf("Hello, world!\n");
  return 0;
}
