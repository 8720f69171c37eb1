/* 8254 PIT at TIMER_FREQ Hz driving preemption. */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <stdint.h>

#define TIMER_FREQ 100

void timer_init(void);
int64_t timer_ticks(void);
void timer_sleep(int64_t ticks);

#endif
