/* The memory seam between process management and the VM subsystem.
 *
 * process.c, process_fork.c and elf_loader.c build, copy and free a user
 * address space only through these functions. This version
 * (kernel/process_memory.c) loads EAGERLY: every page gets a user-pool
 * frame and its contents when it is mapped, and struct process_memory
 * lists the mapped pages so fork can copy them and exit/exec can free
 * them. The VM issue replaces kernel/process_memory.c and the definition
 * of struct process_memory (e.g. with the supplemental page table) to load
 * lazily; the callers stay as they are.
 *
 * Every function acts on the running thread's process
 * (thread_current()->process and ->pml4). */
#ifndef KERNEL_PROCESS_MEMORY_H
#define KERNEL_PROCESS_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/filesys.h"

struct thread;

/* The user pages of one process (eager loading). */
struct process_memory {
  uintptr_t *pages; /* page-aligned user addresses; bit 0 set = writable */
  size_t count;     /* pages in use */
  size_t capacity;  /* entries allocated */
};

/* Creates an empty address space for the running process, installs it as
 * thread_current()->pml4 and activates it. The process must have none.
 * False if out of memory. */
bool process_memory_create(void);

/* Maps READ_BYTES + ZERO_BYTES bytes (a multiple of PGSIZE) at page-aligned
 * UPAGE: the first READ_BYTES come from FILE at offset OFS, the rest are
 * zero. WRITABLE sets the pages' write permission. The pages must not be
 * mapped yet. False on a short read or out of memory; pages mapped so far
 * stay mapped and are freed by process_release_memory(). */
bool load_segment(struct file *file, off_t ofs, void *upage,
                  size_t read_bytes, size_t zero_bytes, bool writable);

/* Maps the first stack page, the one ending at USER_STACK, zero-filled and
 * writable, so the loader can write argv there. False if out of memory. */
bool setup_stack(void);

/* Fork: fills the running (child) process's empty address space with a
 * copy of every page of PARENT, same permissions. PARENT must not run
 * meanwhile. False if out of memory (pages copied so far are freed by
 * process_release_memory()). */
bool process_memory_copy(struct thread *parent);

/* Frees every user page and the page tables of the running process, and
 * switches to the kernel page table (thread_current()->pml4 becomes
 * NULL). Safe to call when there is no address space. */
void process_release_memory(void);

#endif
