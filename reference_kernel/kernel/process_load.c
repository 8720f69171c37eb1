/* Loading a program into the running process (kernel/process_load.h). */
#include "kernel/process_load.h"

#include "arch/gdt.h"
#include "arch/memlayout.h"
#include "kernel/console.h"
#include "kernel/file.h"
#include "kernel/palloc.h"
#include "kernel/process_memory.h"
#include "kernel/process_types.h"
#include "kernel/thread.h"
#include "kernel/usercopy.h"
#include "lib/string.h"

#define USER_RFLAGS 0x202 /* IF set, reserved bit 1 */

bool load_prepare(const char *cmdline, struct load_plan *plan) {
  char name[NAME_MAX + 2];
  argv_program_name(cmdline, name, sizeof name);
  plan->stack_image = palloc_get_page(0);
  if (plan->stack_image == NULL) {
    printf("load: %s: out of kernel memory\n", name);
    return false;
  }
  if (!argv_build(cmdline, USER_STACK, plan->stack_image, &plan->layout)) {
    printf("load: %s: empty command line or arguments over one page\n",
           name);
    palloc_free_page(plan->stack_image);
    return false;
  }
  const char *program = plan->layout.program;
  plan->file = filesys_open(program);
  if (plan->file == NULL) {
    printf("load: %s: open failed\n", program);
    palloc_free_page(plan->stack_image);
    return false;
  }
  const char *why = elf_inspect(plan->file, &plan->elf);
  if (why != NULL) {
    printf("load: %s: %s\n", program, why);
    load_abandon(plan);
    return false;
  }
  return true;
}

void load_abandon(struct load_plan *plan) {
  file_close(plan->file);
  palloc_free_page(plan->stack_image);
  plan->file = NULL;
  plan->stack_image = NULL;
}

/* Maps the segments and the stack and writes argv; false if out of
 * memory. */
static bool build_image(const struct load_plan *plan) {
  const struct argv_layout *l = &plan->layout;
  if (!process_memory_create() || !elf_load_segments(plan->file, &plan->elf) ||
      !setup_stack())
    return false;
  const uint8_t *top = plan->stack_image + PGSIZE;
  return copy_to_user((void *)l->rsp, top - l->size, l->size);
}

bool load_commit(struct load_plan *plan, struct intr_frame *frame) {
  struct process *p = process_current();
  bool ok = build_image(plan);
  if (!ok)
    printf("load: %s: out of memory\n", plan->layout.program);
  memset(frame, 0, sizeof *frame);
  frame->rip = plan->elf.entry;
  frame->cs = SEL_UCSEG;
  frame->ss = SEL_UDSEG;
  frame->rflags = USER_RFLAGS;
  frame->rsp = plan->layout.rsp;
  frame->R.rdi = (uint64_t)plan->layout.argc;
  frame->R.rsi = plan->layout.argv;
  /* The process keeps its program file open while it runs. */
  p->executable = plan->file;
  plan->file = NULL;
  load_abandon(plan);
  return ok;
}
