/* Memory-mapped files: the entry points of the mmap and munmap system
 * calls. vm/mmap.c holds failing placeholders until the VM issue
 * implements them (Pintos-KAIST semantics: lazy file-backed pages, dirty
 * pages written back on munmap and at exit). */
#ifndef VM_MMAP_H
#define VM_MMAP_H

#include <stddef.h>

#include "kernel/filesys.h"

/* Maps LENGTH bytes of FILE from OFFSET at ADDR in the running process
 * (WRITABLE: may be written). FILE is the process's open handle; the
 * mapping must use its own (file_reopen). Returns ADDR, or NULL if the
 * mapping is refused. */
void *vm_mmap(void *addr, size_t length, int writable, struct file *file,
              off_t offset);

/* Removes the mapping that starts at ADDR, writing back dirty pages; no
 * effect if there is none. */
void vm_munmap(void *addr);

#endif
