/* 8254 PIT channel 0 on IRQ 0, in one-shot mode (mode 0): each tick arms
 * the next. One-shot lets device waits be invisible to the scheduler:
 * timer_freeze() saves the count left before a wait whose length depends
 * on the host (QEMU completes disk requests on a host thread), and
 * timer_thaw() restores it afterwards, so under -icount every tick lands
 * at the same point of the guest's instruction stream, run after run. */
#include "kernel/timer.h"

#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/intr.h"
#include "kernel/debug.h"
#include "kernel/hooks.h"
#include "kernel/thread.h"

#define PIT_HZ 1193182
#define PIT_PERIOD ((PIT_HZ + TIMER_FREQ / 2) / TIMER_FREQ)
#define PIT_CMD 0x43
#define PIT_CH0 0x40
#define PIT_MODE0_LOHI 0x30        /* channel 0, lo/hi byte, mode 0 */
#define PIT_READBACK_CH0 0xc2      /* latch count and status of channel 0 */
#define PIT_STATUS_OUT 0x80

static volatile int64_t ticks;
static bool discard_next_tick; /* an edge that fired during a frozen wait */
static void wake_sleepers(void);
static struct list sleepers;   /* threads in timer_sleep (below); list_init in timer_init */

static void pit_arm(uint16_t count) {
  outb(PIT_CMD, PIT_MODE0_LOHI);
  outb(PIT_CH0, count & 0xff);
  outb(PIT_CH0, count >> 8);
}

/* Latches channel 0; returns its count and whether OUT is high (the
 * one-shot has fired). */
static uint16_t pit_read(bool *fired) {
  outb(PIT_CMD, PIT_READBACK_CH0);
  uint8_t status = inb(PIT_CH0);
  uint16_t lo = inb(PIT_CH0), hi = inb(PIT_CH0);
  *fired = (status & PIT_STATUS_OUT) != 0;
  return (uint16_t)(lo | hi << 8);
}

static void timer_interrupt(struct intr_frame *f) {
  (void)f;
  if (discard_next_tick) {
    discard_next_tick = false; /* timer_thaw already re-armed */
    return;
  }
  pit_arm(PIT_PERIOD);
  ticks++;
  wake_sleepers();
  hooks_tick();
  thread_tick();
}

void timer_init(void) {
  list_init(&sleepers);
  pit_arm(PIT_PERIOD);
  intr_register_ext(0x20, timer_interrupt, "timer");
}

struct timer_freeze timer_freeze(void) {
  ASSERT(intr_get_level() == INTR_OFF);
  struct timer_freeze fz;
  fz.count = pit_read(&fz.fired);
  return fz;
}

void timer_thaw(const struct timer_freeze *fz) {
  ASSERT(intr_get_level() == INTR_OFF);
  if (fz->fired)
    return; /* the tick was due before the wait; its handler re-arms */
  bool fired;
  pit_read(&fired);
  if (fired)
    discard_next_tick = true; /* fired during the wait: ignore that edge */
  pit_arm(fz->count ? fz->count : 1);
}

int64_t timer_ticks(void) {
  enum intr_level old = intr_disable();
  int64_t t = ticks;
  intr_set_level(old);
  return t;
}

/* Threads blocked in timer_sleep, each woken by the first tick at or
 * after its wakeup_tick (through its elem: a blocked thread is on no
 * ready list). Blocking, not a yield loop: with nothing else to run the
 * CPU halts, and under -icount sleep=off the guest's clock then jumps to
 * the next tick instead of running a loop through every instruction of
 * the wait (docs/mutants.md, frame-226). */

void timer_sleep(int64_t n) {
  if (n <= 0)
    return;
  enum intr_level old = intr_disable();
  struct thread *t = thread_current();
  t->wakeup_tick = ticks + n;
  list_push_back(&sleepers, &t->elem);
  thread_block();
  intr_set_level(old);
}

/* In the timer interrupt: unblocks every sleeper whose tick has come. */
static void wake_sleepers(void) {
  struct list_elem *e = list_begin(&sleepers);
  while (e != list_end(&sleepers)) {
    struct thread *t = list_entry(e, struct thread, elem);
    e = list_next(e);
    if (t->wakeup_tick <= ticks) {
      list_remove(&t->elem);
      thread_unblock(t);
    }
  }
}
