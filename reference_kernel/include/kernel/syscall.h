/* System calls with Pintos-KAIST numbers: `syscall` instruction, number in
 * rax, arguments in rdi, rsi, rdx, r10, r8, r9, result in rax. */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "arch/intr.h"

enum {
  SYS_HALT, SYS_EXIT, SYS_FORK, SYS_EXEC, SYS_WAIT, SYS_CREATE, SYS_REMOVE,
  SYS_OPEN, SYS_FILESIZE, SYS_READ, SYS_WRITE, SYS_SEEK, SYS_TELL, SYS_CLOSE,
  SYS_MMAP, SYS_MUNMAP
};

void syscall_init(void);
/* Called from the syscall entry stub with interrupts enabled. */
void syscall_handler(struct intr_frame *f);

#endif
