/* 8254 PIT channel 0 at TIMER_FREQ Hz on IRQ 0. */
#include "kernel/timer.h"

#include "arch/cpu.h"
#include "arch/intr.h"
#include "kernel/hooks.h"
#include "kernel/thread.h"

#define PIT_HZ 1193182

static volatile int64_t ticks;

static void timer_interrupt(struct intr_frame *f) {
  (void)f;
  ticks++;
  hooks_tick();
  thread_tick();
}

void timer_init(void) {
  uint16_t count = (PIT_HZ + TIMER_FREQ / 2) / TIMER_FREQ;
  outb(0x43, 0x34); /* channel 0, lobyte/hibyte, rate generator */
  outb(0x40, count & 0xff);
  outb(0x40, count >> 8);
  intr_register_ext(0x20, timer_interrupt, "timer");
}

int64_t timer_ticks(void) {
  enum intr_level old = intr_disable();
  int64_t t = ticks;
  intr_set_level(old);
  return t;
}

void timer_sleep(int64_t n) {
  int64_t start = timer_ticks();
  while (timer_ticks() - start < n)
    thread_yield();
}
