/* Starting a program in the running process, in two steps so that exec
 * can fail cleanly: load_prepare checks everything that can be checked
 * without touching the current address space (command line, file, ELF
 * headers); load_commit builds the new image. Both print one line
 * "load: PROGRAM: REASON" on failure. */
#ifndef KERNEL_PROCESS_LOAD_H
#define KERNEL_PROCESS_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/intr.h"
#include "kernel/argv.h"
#include "kernel/elf_loader.h"

struct load_plan {
  uint8_t *stack_image;      /* a kernel page: the top stack page */
  struct argv_layout layout; /* argv inside stack_image */
  struct file *file;         /* the executable, open */
  struct elf_image elf;
};

/* Lays out CMDLINE's arguments, opens the program and checks its ELF
 * headers. False if the program cannot be started; then PLAN holds
 * nothing. */
bool load_prepare(const char *cmdline, struct load_plan *plan);

/* Frees what a successful load_prepare holds, when the program will not
 * be started after all. */
void load_abandon(struct load_plan *plan);

/* Builds the program's address space in the running process, which must
 * have none (process_release_memory), makes the program file the
 * process's executable and fills FRAME to enter the program in user mode.
 * Consumes PLAN. False if out of memory; the partial address space is left
 * for process_exit to free. */
bool load_commit(struct load_plan *plan, struct intr_frame *frame);

#endif
