/* Argument passing (kernel/argv.h). */
#include "kernel/argv.h"

#include "arch/memlayout.h"
#include "lib/string.h"

static const char *skip_spaces(const char *s) {
  while (*s == ' ')
    s++;
  return s;
}

static size_t word_length(const char *s) {
  size_t n = 0;
  while (s[n] != '\0' && s[n] != ' ')
    n++;
  return n;
}

/* Counts the words of CMDLINE and the bytes their strings need (with
 * NULs). */
static int count_words(const char *cmdline, size_t *string_bytes) {
  int argc = 0;
  *string_bytes = 0;
  for (const char *s = skip_spaces(cmdline); *s != '\0';) {
    size_t len = word_length(s);
    argc++;
    *string_bytes += len + 1;
    s = skip_spaces(s + len);
  }
  return argc;
}

bool argv_build(const char *cmdline, uintptr_t stack_top, uint8_t *image,
                struct argv_layout *layout) {
  size_t string_bytes;
  int argc = count_words(cmdline, &string_bytes);
  if (argc == 0 || string_bytes > PGSIZE)
    return false;
  size_t pointer_bytes = 8 * ((size_t)argc + 1); /* argv[] and NULL */
  size_t size = ((string_bytes + 7) & ~(size_t)7) + pointer_bytes + 8;
  if (size > PGSIZE)
    return false;

  uint8_t *top = image + PGSIZE; /* stands for stack_top */
  memset(top - size, 0, size);   /* return address, NULL, padding */
  char *string = (char *)(top - string_bytes);
  uintptr_t string_user = stack_top - string_bytes;
  uint64_t *argv_slot = (uint64_t *)(top - size + 8);
  layout->program = string;
  for (const char *s = skip_spaces(cmdline); *s != '\0';) {
    size_t len = word_length(s);
    memcpy(string, s, len);
    string[len] = '\0';
    *argv_slot++ = string_user;
    string += len + 1;
    string_user += len + 1;
    s = skip_spaces(s + len);
  }
  layout->argc = argc;
  layout->rsp = stack_top - size;
  layout->argv = layout->rsp + 8;
  layout->size = size;
  return true;
}

void argv_program_name(const char *cmdline, char *name, size_t size) {
  const char *s = skip_spaces(cmdline);
  size_t len = word_length(s);
  if (size == 0)
    return;
  if (len > size - 1)
    len = size - 1;
  memcpy(name, s, len);
  name[len] = '\0';
}
