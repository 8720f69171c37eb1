/* Kernel command line parsing (see kernel/args.h). */
#include "kernel/args.h"

#include <stdint.h>

#include "kernel/debug.h"
#include "lib/string.h"

/* Returns the next token of *S: a word, or a '...' quoted string without
 * its quotes. NULL at the end. */
static char *next_token(char **s) {
  char *p = *s;
  while (*p == ' ')
    p++;
  if (*p == '\0')
    return NULL;
  char *tok;
  if (*p == '\'') {
    tok = ++p;
    while (*p && *p != '\'')
      p++;
    if (*p != '\'')
      PANIC("kernel command line: unterminated quote in '%s", tok);
  } else {
    tok = p;
    while (*p && *p != ' ')
      p++;
  }
  if (*p)
    *p++ = '\0';
  *s = p;
  return tok;
}

static size_t parse_number(const char *s, const char *what) {
  size_t v = 0;
  if (*s == '\0')
    PANIC("kernel command line: %s needs a number", what);
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      PANIC("kernel command line: bad number in %s", what);
    v = v * 10 + (size_t)(*s - '0');
  }
  return v;
}

void args_parse(char *cmdline, struct kernel_args *a) {
  a->user_page_limit = SIZE_MAX;
  a->run_cnt = 0;
  char *tok;
  while ((tok = next_token(&cmdline)) != NULL) {
    if (!strncmp(tok, "-ul=", 4)) {
      a->user_page_limit = parse_number(tok + 4, "-ul=");
    } else if (!strcmp(tok, "-q")) {
      /* power off at the end: always done */
    } else if (!strcmp(tok, "run")) {
      char *prog = next_token(&cmdline);
      if (prog == NULL)
        PANIC("kernel command line: 'run' needs a program");
      if (a->run_cnt == ARGS_MAX_RUNS)
        PANIC("kernel command line: more than %d run actions", ARGS_MAX_RUNS);
      a->runs[a->run_cnt++] = prog;
    } else {
      PANIC("kernel command line: unknown option or action '%s'", tok);
    }
  }
}
