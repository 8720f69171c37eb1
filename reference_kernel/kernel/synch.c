/* Semaphores, locks and condition variables (FIFO wake-up). */
#include "kernel/synch.h"

#include "arch/intr.h"
#include "kernel/debug.h"
#include "kernel/thread.h"

void sema_init(struct semaphore *s, unsigned value) {
  s->value = value;
  list_init(&s->waiters);
}

void sema_down(struct semaphore *s) {
  ASSERT(!intr_context());
  enum intr_level old = intr_disable();
  while (s->value == 0) {
    list_push_back(&s->waiters, &thread_current()->elem);
    thread_block();
  }
  s->value--;
  intr_set_level(old);
}

bool sema_try_down(struct semaphore *s) {
  enum intr_level old = intr_disable();
  bool ok = s->value > 0;
  if (ok)
    s->value--;
  intr_set_level(old);
  return ok;
}

void sema_up(struct semaphore *s) {
  enum intr_level old = intr_disable();
  if (!list_empty(&s->waiters))
    thread_unblock(list_entry(list_pop_front(&s->waiters), struct thread, elem));
  s->value++;
  intr_set_level(old);
}

void lock_init(struct lock *l) {
  l->holder = NULL;
  sema_init(&l->semaphore, 1);
}

void lock_acquire(struct lock *l) {
  ASSERT(!lock_held_by_current_thread(l));
  sema_down(&l->semaphore);
  l->holder = thread_current();
}

bool lock_try_acquire(struct lock *l) {
  ASSERT(!lock_held_by_current_thread(l));
  bool ok = sema_try_down(&l->semaphore);
  if (ok)
    l->holder = thread_current();
  return ok;
}

void lock_release(struct lock *l) {
  ASSERT(lock_held_by_current_thread(l));
  l->holder = NULL;
  sema_up(&l->semaphore);
}

bool lock_held_by_current_thread(const struct lock *l) {
  return l->holder == thread_current();
}

struct cond_waiter {
  struct list_elem elem;
  struct semaphore sema;
};

void cond_init(struct condition *c) { list_init(&c->waiters); }

void cond_wait(struct condition *c, struct lock *l) {
  ASSERT(lock_held_by_current_thread(l));
  struct cond_waiter w;
  sema_init(&w.sema, 0);
  list_push_back(&c->waiters, &w.elem);
  lock_release(l);
  sema_down(&w.sema);
  lock_acquire(l);
}

void cond_signal(struct condition *c, struct lock *l) {
  ASSERT(lock_held_by_current_thread(l));
  if (!list_empty(&c->waiters))
    sema_up(&list_entry(list_pop_front(&c->waiters), struct cond_waiter, elem)->sema);
}

void cond_broadcast(struct condition *c, struct lock *l) {
  while (!list_empty(&c->waiters))
    cond_signal(c, l);
}
