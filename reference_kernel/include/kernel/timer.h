/* 8254 PIT at TIMER_FREQ Hz driving preemption. */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_FREQ 100

void timer_init(void);

/* A device wait that must not be seen by the scheduler (see timer.c):
 *   enum intr_level old = intr_disable();
 *   struct timer_freeze fz = timer_freeze();
 *   ... poll the device ...
 *   timer_thaw(&fz);
 *   intr_set_level(old);
 * Interrupts must stay off in between. */
struct timer_freeze {
  uint16_t count; /* PIT count left when frozen */
  bool fired;     /* the tick was already due */
};
struct timer_freeze timer_freeze(void);
void timer_thaw(const struct timer_freeze *);
int64_t timer_ticks(void);
void timer_sleep(int64_t ticks);

#endif
