/* What a user process owns, behind struct thread's `process` pointer, and
 * the record a parent shares with each child. Owned by kernel/process.c;
 * the program's name is the thread's name. */
#ifndef KERNEL_PROCESS_TYPES_H
#define KERNEL_PROCESS_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/fdtable.h"
#include "kernel/process.h"
#include "kernel/process_memory.h"
#include "kernel/synch.h"
#include "lib/list.h"

/* Shared by a parent and one child: the child's pid and exit status. It
 * outlives whichever side ends first; the last holder frees it. The
 * parent's side is process_run() for the first process of a `run`. */
struct child_record {
  pid_t pid;
  int exit_status;         /* valid once `exited` is up */
  struct semaphore exited; /* upped once, when the child has ended */
  int holders;             /* 2 while parent and child hold it; changed
                              with interrupts off (child_record_drop) */
  struct list_elem elem;   /* in the parent's `children` */
};

struct process {
  struct child_record *record; /* this process's record, shared with its
                                  parent */
  struct list children;        /* child_record.elem; touched only by this
                                  process's thread */
  struct fd_table fds;
  struct file *executable;     /* the program file, open while it runs */
  uint8_t *bounce;             /* one kernel page: read/write/exec copies
                                  go through it, so the file system never
                                  touches user memory */
  struct process_memory memory;/* user pages (kernel/process_memory.h) */
};

/* The running thread's process; NULL for kernel threads. */
struct process *process_current(void);

/* ---- Internal to kernel/process*.c ---- */

/* A record held by both sides (holders = 2); NULL if out of memory. */
struct child_record *child_record_create(void);
/* Drops one holder of RECORD, freeing it when it was the last. */
void child_record_drop(struct child_record *record);

/* Gives the running thread a new process with no address space yet,
 * reporting to RECORD. False if out of memory (nothing is kept). */
bool process_attach(struct child_record *record);
/* Ends a thread that failed before process_attach succeeded: reports -1
 * through RECORD, prints nothing. */
void process_abandon(struct child_record *record) __attribute__((noreturn));
/* Frees everything the running process owns, reports STATUS to its parent
 * and ends the thread, printing nothing (process_exit prints first). */
void process_teardown(int status) __attribute__((noreturn));

/* Count of processes that exist (vmcheck_live_processes): add before
 * creating a process's thread, remove as the last step of its end. */
void process_live_add(void);
void process_live_remove(void);

#endif
