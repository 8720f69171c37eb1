/* Injection and observation hooks for the harness.
 *
 * A hook is an empty, never-inlined function in section .vmcheck.hooks,
 * which the linker script puts on pages of their own: a breakpoint there
 * does not make TCG single-step hot code. Code at an abstract injection
 * point calls its hook and fails the operation when the hook returns
 * nonzero; the reference hooks always return 0, and the harness forces a
 * nonzero return value at the hook's entry to inject a fault.
 *
 *   if (vmcheck_hook_frame_alloc(upage))
 *     return NULL;                       // injected allocation failure
 *
 * Hook names are stable symbols (the reference adapter maps the abstract
 * points frame_alloc, swap_out, swap_in, file_read, file_write,
 * page_alloc, page_fault, evict_choose, yield to them). Arguments are
 * passed so the harness can filter (e.g. by address or thread). */
#ifndef KERNEL_HOOKS_H
#define KERNEL_HOOKS_H

#include <stdint.h>

#define VMCHECK_HOOK __attribute__((noinline, used, section(".vmcheck.hooks")))

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
DECLARE_VMCHECK_HOOK(yield);        /* arg: point id; nonzero = yield now */

#endif
