/* Threads and the preemptive round-robin scheduler (one CPU). */
#include "kernel/thread.h"

#include <stddef.h>

#include "arch/gdt.h"
#include "arch/intr.h"
#include "arch/mmu.h"
#include "kernel/debug.h"
#include "kernel/malloc.h"
#include "kernel/palloc.h"
#include "lib/string.h"

#define THREAD_MAGIC 0xcd6abf4bU
#define KSTACK_SIZE (THREAD_KSTACK_PAGES * 4096)
#define THREAD_SWITCH_RSP 32 /* must match switch.S */

_Static_assert(offsetof(struct thread, switch_rsp) == THREAD_SWITCH_RSP,
               "switch.S assumes this offset");

struct thread *vmcheck_current_thread;
static struct list ready_list;
/* Every live thread (a stable symbol the harness walks). */
struct list vmcheck_all_threads;
static struct thread *idle_thread;
static struct thread initial_thread;
static tid_t next_tid = 1;
static uint8_t clean_fpu_state[512] __attribute__((aligned(16)));
extern uint8_t boot_stack[];

struct thread *switch_threads(struct thread *cur, struct thread *next);
void switch_entry(void);

static void init_thread(struct thread *t, const char *name) {
  t->tid = next_tid++;
  t->status = THREAD_BLOCKED;
  strlcpy(t->name, name, sizeof t->name);
  t->magic = THREAD_MAGIC;
  memcpy(t->fpu_state, clean_fpu_state, sizeof t->fpu_state);
  list_push_back(&vmcheck_all_threads, &t->allelem);
}

static void fpu_init(void) {
  uint64_t cr0, cr4;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 = (cr0 & ~(1ULL << 2)) | (1ULL << 1); /* clear EM, set MP */
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 |= (1ULL << 9) | (1ULL << 10); /* OSFXSR, OSXMMEXCPT */
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
  __asm__ volatile("fninit; fxsave %0" : "=m"(clean_fpu_state));
}

void thread_init(void) {
  ASSERT(intr_get_level() == INTR_OFF);
  fpu_init();
  list_init(&ready_list);
  list_init(&vmcheck_all_threads);
  init_thread(&initial_thread, "main");
  initial_thread.kstack = boot_stack;
  initial_thread.status = THREAD_RUNNING;
  vmcheck_current_thread = &initial_thread;
}

static void idle(void *aux) {
  (void)aux;
  for (;;) {
    intr_disable();
    thread_block();
    /* Re-enable interrupts and halt atomically (sti shadow). */
    __asm__ volatile("sti; hlt" : : : "memory");
  }
}

void thread_start(void) {
  thread_create("idle", idle, NULL);
  intr_enable();
}

struct thread *thread_current(void) {
  struct thread *t = vmcheck_current_thread;
  ASSERT(t != NULL && t->magic == THREAD_MAGIC);
  return t;
}

tid_t thread_tid(void) { return thread_current()->tid; }
const char *thread_name(void) { return thread_current()->name; }

void thread_tick(void) {
  struct thread *t = thread_current();
  if (++t->slice_ticks >= TIME_SLICE)
    intr_yield_on_return();
}

/* Runs in the new thread after its first switch (from switch_entry). */
void thread_run_function(thread_func *fn, void *aux) {
  intr_enable();
  fn(aux);
  thread_exit();
}

tid_t thread_create(const char *name, thread_func *fn, void *aux) {
  struct thread *t = calloc(1, sizeof *t);
  uint8_t *stack = palloc_get_multiple(0, THREAD_KSTACK_PAGES);
  if (t == NULL || stack == NULL) {
    free(t);
    palloc_free_multiple(stack, THREAD_KSTACK_PAGES);
    return TID_ERROR;
  }
  t->kstack = stack;
  /* Switch frame popped by switch_threads: r15 r14 r13 r12 rbp rbx ret;
   * one more slot so rsp is 16-byte aligned at switch_entry's call. */
  uint64_t *sp = (uint64_t *)(stack + KSTACK_SIZE) - 9;
  memset(sp, 0, 9 * sizeof *sp);
  sp[3] = (uint64_t)fn;    /* r12 */
  sp[2] = (uint64_t)aux;   /* r13 */
  sp[6] = (uint64_t)switch_entry;
  t->switch_rsp = (uint64_t)sp;
  enum intr_level old = intr_disable();
  init_thread(t, name);
  if (idle_thread == NULL)
    idle_thread = t;
  tid_t tid = t->tid;
  thread_unblock(t);
  intr_set_level(old);
  return tid;
}

void thread_block(void) {
  ASSERT(!intr_context());
  ASSERT(intr_get_level() == INTR_OFF);
  thread_current()->status = THREAD_BLOCKED;
  void schedule(void);
  schedule();
}

void thread_unblock(struct thread *t) {
  ASSERT(t->magic == THREAD_MAGIC && t->status == THREAD_BLOCKED);
  enum intr_level old = intr_disable();
  if (t != idle_thread)
    list_push_back(&ready_list, &t->elem);
  t->status = THREAD_READY;
  intr_set_level(old);
}

void thread_yield(void) {
  struct thread *cur = thread_current();
  ASSERT(!intr_context());
  enum intr_level old = intr_disable();
  if (cur != idle_thread)
    list_push_back(&ready_list, &cur->elem);
  cur->status = THREAD_READY;
  void schedule(void);
  schedule();
  intr_set_level(old);
}

void thread_exit(void) {
  ASSERT(!intr_context());
  intr_disable();
  struct thread *cur = thread_current();
  list_remove(&cur->allelem);
  cur->status = THREAD_DYING;
  void schedule(void);
  schedule();
  NOT_REACHED();
}

void thread_foreach(thread_action_func *action, void *aux) {
  ASSERT(intr_get_level() == INTR_OFF);
  for (struct list_elem *e = list_begin(&vmcheck_all_threads); e != list_end(&vmcheck_all_threads);
       e = list_next(e))
    action(list_entry(e, struct thread, allelem), aux);
}

/* Completes a switch in the thread now running: frees PREV if it died. */
void thread_schedule_tail(struct thread *prev) {
  struct thread *cur = thread_current();
  cur->status = THREAD_RUNNING;
  cur->slice_ticks = 0;
  if (prev != NULL && prev->status == THREAD_DYING && prev != &initial_thread) {
    palloc_free_multiple(prev->kstack, THREAD_KSTACK_PAGES);
    prev->magic = 0;
    free(prev);
  }
}

/* Picks the next thread and switches to it. Interrupts must be off and
 * the current thread's status already changed. */
void schedule(void) {
  struct thread *cur = thread_current();
  ASSERT(intr_get_level() == INTR_OFF && cur->status != THREAD_RUNNING);
  struct thread *next = list_empty(&ready_list)
      ? idle_thread
      : list_entry(list_pop_front(&ready_list), struct thread, elem);
  ASSERT(next != NULL && next->magic == THREAD_MAGIC);
  struct thread *prev = NULL;
  if (next != cur) {
    __asm__ volatile("fxsave %0" : "=m"(cur->fpu_state));
    vmcheck_current_thread = next;
    tss_set_kernel_stack((uintptr_t)next->kstack + KSTACK_SIZE);
    pml4_activate(next->pml4);
    prev = switch_threads(cur, next);
    __asm__ volatile("fxrstor %0" : : "m"(thread_current()->fpu_state));
  }
  thread_schedule_tail(prev);
}
