/* Injection and observation hooks for the harness.
 *
 * A hook is a small, never-inlined function in section .vmcheck.hooks,
 * which the linker script puts on pages of their own: a breakpoint there
 * does not make TCG single-step hot code. Code at an abstract injection
 * point calls its hook and fails the operation when the hook returns
 * nonzero; the reference hooks return 0, and the harness forces a nonzero
 * return value at the hook's entry to inject a failure.
 *
 *   if (vmcheck_hook_frame_alloc(upage))
 *     return NULL;                       // injected allocation failure
 *
 * Hook names are stable symbols (the reference adapter maps the abstract
 * points frame_alloc, page_alloc, swap_out, swap_in, file_read,
 * file_write, page_fault, evict_choose and yield to them). The argument
 * lets the harness filter (by address, slot, ...).
 *
 * Requests, written by the harness while the guest is stopped at a hook's
 * breakpoint. Those for one thread are in that thread's struct thread
 * (member vmcheck_requests, struct vmcheck_thread_requests in
 * kernel/thread.h), written into the thread stopped there:
 *   preempt        that thread yields the CPU before the hook returns
 *                  (forced preemption at that point), then clears it;
 *   delay_ticks    that thread sleeps this many timer ticks before the
 *                  hook returns (other threads run meanwhile), then clears
 *                  it.
 * Only that thread serves them, in that hook: a timer tick that preempts
 * it between the breakpoint and the service, or another thread passing a
 * hook meanwhile, leaves them where they are (in a global block they were
 * served by whichever thread passed a hook first). Memory pressure is for
 * the pool, not a thread, and stays in the global block (struct
 * vmcheck_requests):
 *   steal_frames   the next timer tick or hook to run, in any thread,
 *                  takes up to this many free user frames out of the pool;
 *                  they are given back by release_frames or at power-off;
 *   release_frames the next timer tick or hook to run gives back up to
 *                  this many of the stolen frames.
 * Served anywhere, these only take effect sooner: never later than the
 * requesting thread's own hook, which serves them before it goes on. */
#ifndef KERNEL_HOOKS_H
#define KERNEL_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#define VMCHECK_HOOK __attribute__((noinline, used, section(".vmcheck.hooks")))
/* vmcheck_hook_fault's own page (the harness's breakpoint stays on it). */
#define VMCHECK_FAULT_HOOK \
  __attribute__((noinline, used, section(".vmcheck.fault_hook")))

/* Declares hook NAME taking one uintptr_t argument, returning int. */
#define DECLARE_VMCHECK_HOOK(NAME) int vmcheck_hook_##NAME(uintptr_t arg)

DECLARE_VMCHECK_HOOK(frame_alloc);  /* arg: user page being given a frame */
DECLARE_VMCHECK_HOOK(page_alloc);   /* arg: user page getting an SPT record */
DECLARE_VMCHECK_HOOK(swap_out);     /* arg: swap slot being written */
DECLARE_VMCHECK_HOOK(swap_in);      /* arg: swap slot being read */
DECLARE_VMCHECK_HOOK(file_read);    /* arg: user page being read from a file */
DECLARE_VMCHECK_HOOK(file_write);   /* arg: user page written back to a file */
DECLARE_VMCHECK_HOOK(page_fault);   /* arg: faulting address; observe only */
DECLARE_VMCHECK_HOOK(evict_choose); /* arg: kernel VA of the chosen frame */
DECLARE_VMCHECK_HOOK(yield);        /* arg: point id; a preemption point */

/* What the kernel does with a fault it reports to vmcheck_hook_fault. */
enum vmcheck_fault_outcome {
  VMCHECK_FAULT_KILL = 1,     /* a user fault ends the process (exit(-1)) */
  VMCHECK_FAULT_PANIC = 2,    /* a kernel fault panics */
  VMCHECK_FAULT_FIXUP = 3,    /* a user-copy fault fails its system call */
  VMCHECK_FAULT_KERNEL = 4,   /* a kernel-mode fault outside the user copies
                                 that the VM resolved */
};

/* Observation only, called on no fault a correct run takes routinely:
 * FRAME is the trap frame (struct intr_frame *), CR2 the faulting address
 * (0 for exceptions other than #PF), OUTCOME an enum vmcheck_fault_outcome.
 * The harness stops here to explain the fault (issue 15). */
int vmcheck_hook_fault(const void *frame, uintptr_t cr2, int outcome);

/* Observation only: called by debug_panic (first level) before it prints;
 * on the fault hook's page, so the harness's breakpoint there costs a run
 * nothing (debug_panic shares its page with printf and the file code). */
void vmcheck_hook_panic(void);

/* Pool-wide requests (the per-thread ones are in struct thread). */
struct vmcheck_requests {
  volatile int steal_frames;
  volatile int release_frames;
  volatile size_t stolen;        /* frames held now (read by the harness) */
};

/* Written by the harness; a stable symbol. */
extern struct vmcheck_requests vmcheck_requests;

/* Called by the timer tick (interrupt context): services steal/release. */
void hooks_tick(void);
/* Gives back every stolen frame (before the power-off leak summary). */
void hooks_release_all(void);

#endif
