/* Internal to the system-call layer (kernel/syscall*.c): handlers and the
 * argument helpers they share. A handler reads its arguments from F
 * (rdi, rsi, rdx, r10, r8, r9) and returns the value for rax. */
#ifndef KERNEL_SYSCALL_IMPL_H
#define KERNEL_SYSCALL_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/intr.h"

typedef uint64_t syscall_func(struct intr_frame *f);

/* File and memory-mapping calls (kernel/syscall_file.c). */
syscall_func sys_create, sys_remove, sys_open, sys_filesize, sys_read,
    sys_write, sys_seek, sys_tell, sys_close, sys_mmap, sys_munmap;

/* Copies the user string at USRC into DST (SIZE bytes). An unreadable
 * string ends the process with exit(-1). Returns false if the string is
 * longer than SIZE-1 chars (DST then holds the first SIZE-1). */
bool syscall_string_arg(char *dst, uint64_t usrc, size_t size);

/* Value of a system call returning int, as rax: sign-extended. */
static inline uint64_t syscall_int(int64_t value) { return (uint64_t)value; }

#endif
