/* args: prints its command line the way Pintos-KAIST's args-* tests do.
 * `args a bc` prints
 *   (args) begin
 *   (args) argc = 3
 *   (args) argv[0] = 'args'
 *   (args) argv[1] = 'a'
 *   (args) argv[2] = 'bc'
 *   (args) argv[3] = null
 *   (args) end
 * and exits 0. Exits 1 with a FAIL line if argv is not 8-byte aligned, does
 * not lie below USER_STACK, or argv[argc] is not NULL. */
#include "vmuser.h"

int main(int argc, char **argv) {
  test_name = "args";
  msg("begin");
  msg("argc = %d", argc);
  if (argc < 1)
    fail("argc is %d; the program name should be argv[0]", argc);
  if ((uintptr_t)argv % 8 != 0)
    fail("argv %p is not 8-byte aligned", (void *)argv);
  if ((uintptr_t)argv >= USER_STACK)
    fail("argv %p is not below USER_STACK", (void *)argv);
  for (int i = 0; i < argc; i++)
    msg("argv[%d] = '%s'", i, argv[i]);
  if (argv[argc] != NULL)
    fail("argv[%d] = %p; expected the NULL sentinel", argc,
         (void *)argv[argc]);
  msg("argv[%d] = null", argc);
  msg("end");
  return 0;
}
