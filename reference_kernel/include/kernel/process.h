/* User processes: ELF loading, argv, fork/exec/wait/exit, fd table. */
#ifndef KERNEL_PROCESS_H
#define KERNEL_PROCESS_H

#include <stdbool.h>

#include "arch/intr.h"
#include "kernel/thread.h"

typedef int pid_t;
#define PID_ERROR ((pid_t)-1)

/* Sets up process management; called once at boot (by syscall_init). */
void process_init(void);

/* Runs the program CMDLINE ("name arg1 arg2 ...") as a new process, waits
 * for it and returns its exit status (-1 if it could not start). Used by
 * the kernel's `run` action. Returns only when no user process is left
 * (orphans included), so every user frame has been freed by then. */
int process_run(const char *cmdline);

/* System-call implementations. F is the caller's syscall frame. */
pid_t process_fork(const char *name, const struct intr_frame *f);
/* Replaces the current program with CMDLINE (a kernel string); never
 * returns on success. Returns -1 if the program cannot be loaded and the
 * current image is still intact; a failure after the old image is gone
 * (out of memory) ends the process with exit(-1). */
int process_exec(const char *cmdline);
int process_wait(pid_t pid);
/* Ends the current process with STATUS, printing "NAME: exit(STATUS)". */
void process_exit(int status) __attribute__((noreturn));

/* Called by the page-fault and exception handlers for an illegal access or
 * fault in user context: prints one diagnostic line and exits with -1.
 * CR2 is the faulting address the page-fault handler read before it
 * enabled interrupts (CR2 itself may hold another thread's fault by now),
 * 0 for other exceptions. */
void process_kill(const struct intr_frame *f, const char *reason,
                  uintptr_t cr2)
    __attribute__((noreturn));

/* Number of user processes that exist right now (stable symbol for the
 * harness; 0 at power-off unless a process is stuck). */
extern int vmcheck_live_processes;

#endif
