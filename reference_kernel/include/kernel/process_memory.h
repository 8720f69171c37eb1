/* The memory seam between process management and the VM subsystem.
 *
 * process.c, process_fork.c and elf_loader.c build, copy and free a user
 * address space only through these functions (kernel/process_memory.c),
 * which hand the work to the supplemental page table (include/vm/spt.h):
 * pages are registered lazily and loaded by the page-fault handler, fork
 * shares frames copy-on-write, exit frees every frame, swap slot and
 * mapping.
 *
 * Every function acts on the running thread's process
 * (thread_current()->process and ->pml4). */
#ifndef KERNEL_PROCESS_MEMORY_H
#define KERNEL_PROCESS_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/filesys.h"
#include "vm/spt.h"

struct thread;

/* The user address space of one process: its SPT (the harness finds it
 * at thread->process->memory.spt, docs/kernel-introspection.md). */
struct process_memory {
  struct supplemental_page_table spt; /* spt.pml4 NULL: no address space */
};

/* Creates an empty address space for the running process, installs it as
 * thread_current()->pml4 and activates it. The process must have none.
 * False if out of memory. */
bool process_memory_create(void);

/* Registers READ_BYTES + ZERO_BYTES bytes (a multiple of PGSIZE) at
 * page-aligned UPAGE, lazily: the first READ_BYTES come from FILE at
 * offset OFS, the rest are zero, when first touched. WRITABLE sets the
 * pages' write permission. The pages must not exist yet. False if out of
 * memory; pages registered so far are freed by process_release_memory(). */
bool load_segment(struct file *file, off_t ofs, void *upage,
                  size_t read_bytes, size_t zero_bytes, bool writable);

/* Registers and loads the first stack page, the one ending at USER_STACK,
 * zero-filled and writable, so the loader can write argv there. False if
 * out of memory. */
bool setup_stack(void);

/* Fork: fills the running (child) process's empty address space with a
 * copy of every page of PARENT, same permissions, copy-on-write (see
 * spt_copy); mmap mappings are not inherited. PARENT must not run
 * meanwhile. False if out of memory (pages copied so far are freed by
 * process_release_memory()). */
bool process_memory_copy(struct thread *parent);

/* Frees every user page (frames, swap slots, mappings with their dirty
 * pages written back) and the page tables of the running process, and
 * switches to the kernel page table (thread_current()->pml4 becomes
 * NULL). Safe to call when there is no address space. */
void process_release_memory(void);

#endif
