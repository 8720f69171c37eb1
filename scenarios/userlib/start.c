/* C half of program start-up: called by _start (crt0.S). */
#include "vmuser.h"

int main(int argc, char **argv);
void __vmuser_start(int argc, char **argv) __attribute__((noreturn, used));

/* Names test output after the program (argv[0]) unless the program
 * defines test_name with a value (main may also set it), then runs main and
 * exits with its return value. */
void __vmuser_start(int argc, char **argv) {
  if (test_name == NULL && argc > 0 && argv != NULL && argv[0] != NULL)
    test_name = argv[0];
  exit(main(argc, argv));
}
