/* System-call dispatch (Pintos-KAIST numbers and semantics) and the
 * process-control calls; file and mmap calls are in syscall_file.c.
 * Every user pointer is read through usercopy; a bad one ends the process
 * with exit(-1). */
#include "kernel/syscall.h"

#include "arch/memlayout.h"
#include "kernel/inspect.h"
#include "kernel/power.h"
#include "kernel/process.h"
#include "kernel/process_types.h"
#include "kernel/syscall_impl.h"
#include "kernel/thread.h"
#include "kernel/usercopy.h"

bool syscall_string_arg(char *dst, uint64_t usrc, size_t size) {
  switch (copy_user_string(dst, (const char *)usrc, size)) {
  case USER_STRING_OK:
    return true;
  case USER_STRING_TOO_LONG:
    return false;
  default:
    process_exit(-1);
  }
}

static uint64_t sys_halt(struct intr_frame *f) { power_off(POWER_EXIT_OK); }

static uint64_t sys_exit(struct intr_frame *f) {
  process_exit((int)f->R.rdi);
}

/* fork(name): a name longer than a thread name is cut, as Pintos does. */
static uint64_t sys_fork(struct intr_frame *f) {
  char name[THREAD_NAME_MAX];
  syscall_string_arg(name, f->R.rdi, sizeof name);
  return syscall_int(process_fork(name, f));
}

/* exec(cmdline): Pintos-KAIST ends the process with exit(-1) when the
 * program cannot be loaded. The command line is copied into the process's
 * bounce page: process_exec does not return on success, so nothing may be
 * allocated for it here. */
static uint64_t sys_exec(struct intr_frame *f) {
  char *cmdline = (char *)process_current()->bounce;
  if (syscall_string_arg(cmdline, f->R.rdi, PGSIZE))
    process_exec(cmdline);
  process_exit(-1);
}

static uint64_t sys_wait(struct intr_frame *f) {
  return syscall_int(process_wait((pid_t)f->R.rdi));
}

static syscall_func *const syscall_table[] = {
    [SYS_HALT] = sys_halt,         [SYS_EXIT] = sys_exit,
    [SYS_FORK] = sys_fork,         [SYS_EXEC] = sys_exec,
    [SYS_WAIT] = sys_wait,         [SYS_CREATE] = sys_create,
    [SYS_REMOVE] = sys_remove,     [SYS_OPEN] = sys_open,
    [SYS_FILESIZE] = sys_filesize, [SYS_READ] = sys_read,
    [SYS_WRITE] = sys_write,       [SYS_SEEK] = sys_seek,
    [SYS_TELL] = sys_tell,         [SYS_CLOSE] = sys_close,
    [SYS_MMAP] = sys_mmap,         [SYS_MUNMAP] = sys_munmap,
};

#define SYSCALL_COUNT (sizeof syscall_table / sizeof syscall_table[0])

void syscall_init(void) {
  process_init();
  inspect_init();
}

/* The result goes to rax; calls that do not return (exit, exec, halt)
 * never get here. An unknown number kills the process with a
 * "vmcheck: user fault" line. */
void syscall_handler(struct intr_frame *f) {
  uint64_t number = f->R.rax;
  if (number >= SYSCALL_COUNT)
    process_kill(f, "unknown system call", 0);
  f->R.rax = syscall_table[number](f);
}
