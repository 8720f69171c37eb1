/* Semaphores, locks and condition variables. */
#ifndef KERNEL_SYNCH_H
#define KERNEL_SYNCH_H

#include <stdbool.h>

#include "lib/list.h"

struct semaphore {
  unsigned value;
  struct list waiters;
};

void sema_init(struct semaphore *, unsigned value);
void sema_down(struct semaphore *);
bool sema_try_down(struct semaphore *);
void sema_up(struct semaphore *);

/* A lock is a binary semaphore with an owner; not recursive. */
struct lock {
  struct thread *holder;
  struct semaphore semaphore;
};

void lock_init(struct lock *);
void lock_acquire(struct lock *);
bool lock_try_acquire(struct lock *);
void lock_release(struct lock *);
bool lock_held_by_current_thread(const struct lock *);

struct condition {
  struct list waiters;
};

void cond_init(struct condition *);
void cond_wait(struct condition *, struct lock *);
void cond_signal(struct condition *, struct lock *);
void cond_broadcast(struct condition *, struct lock *);

#endif
