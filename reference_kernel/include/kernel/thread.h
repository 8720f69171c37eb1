/* Kernel threads and the preemptive round-robin scheduler (one CPU).
 * A user process is a thread with a non-NULL `process` (kernel/process.h). */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/list.h"

typedef int tid_t;
#define TID_ERROR ((tid_t)-1)

enum thread_status { THREAD_RUNNING, THREAD_READY, THREAD_BLOCKED, THREAD_DYING };

#define THREAD_NAME_MAX 16
#define THREAD_KSTACK_PAGES 4 /* 16 KiB kernel stack per thread */
#define TIME_SLICE 4          /* timer ticks per slice */

struct process;

/* What the harness asks of one thread (kernel/hooks.h): written into the
 * thread stopped at a hook's breakpoint, served by that hook in that thread
 * only (a thread that never passes a hook again takes its requests with it
 * when it is freed). */
struct vmcheck_thread_requests {
  volatile int preempt;     /* yield the CPU once */
  volatile int delay_ticks; /* sleep this many timer ticks once */
};

struct thread {
  tid_t tid;
  enum thread_status status;
  char name[THREAD_NAME_MAX];
  uint8_t *kstack;         /* lowest address of the kernel stack */
  uint64_t switch_rsp;     /* saved rsp while not running */
  struct list_elem elem;   /* ready list or a wait list */
  struct list_elem allelem;/* all_threads */
  unsigned slice_ticks;    /* ticks run in the current slice */
  int64_t wakeup_tick;     /* timer_sleep */

  /* User process state (NULL for kernel threads); owned by process.c. */
  struct process *process;
  uint64_t *pml4;          /* address space, NULL for kernel threads */
  uintptr_t user_rsp;      /* user rsp saved at the last syscall entry */
  bool in_syscall;         /* true between syscall entry and return */
  /* Set by usercopy.S while it touches user memory: where to resume if the
   * access faults and cannot be resolved. */
  uintptr_t usercopy_fixup;
  /* Written by the harness; a stable member (kernel/hooks.h). */
  struct vmcheck_thread_requests vmcheck_requests;

  unsigned magic;          /* detects stack overflow */
  /* User FPU/SSE state (fxsave area), switched with the thread. */
  uint8_t fpu_state[512] __attribute__((aligned(16)));
};

typedef void thread_func(void *aux);

void thread_init(void);
/* Starts preemptive scheduling (creates the idle thread, enables IRQs). */
void thread_start(void);
/* Called by the timer interrupt each tick. */
void thread_tick(void);

tid_t thread_create(const char *name, thread_func *, void *aux);
struct thread *thread_current(void);
tid_t thread_tid(void);
const char *thread_name(void);
void thread_exit(void) __attribute__((noreturn));
void thread_yield(void);
/* Blocks the running thread; interrupts must be off. */
void thread_block(void);
/* Makes a blocked thread ready (does not preempt). */
void thread_unblock(struct thread *);

typedef void thread_action_func(struct thread *t, void *aux);
/* Calls ACTION on every thread; interrupts must be off. */
void thread_foreach(thread_action_func *, void *aux);

/* The running thread; a stable symbol the harness reads. */
extern struct thread *vmcheck_current_thread;

#endif
