/* CPU exceptions. The page-fault error code is decoded here, once, into a
 * struct page_fault for the VM layer. A fault in user context kills the
 * process; an unexpected fault in the kernel panics with one line:
 *   Kernel PANIC at ...: exception #PF (14) rip=... cr2=... err=... */
#include "arch/cpu.h"
#include "arch/intr.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/hooks.h"
#include "kernel/process.h"
#include "kernel/thread.h"
#include "vm/vm.h"

#define PF_P 0x1 /* 0: not present, 1: protection violation */
#define PF_W 0x2 /* write access */
#define PF_U 0x4 /* user mode */

static const char *const exception_names[32] = {
    [0] = "#DE divide error", [1] = "#DB debug", [2] = "NMI",
    [3] = "#BP breakpoint", [4] = "#OF overflow", [5] = "#BR bound range",
    [6] = "#UD invalid opcode", [7] = "#NM device not available",
    [8] = "#DF double fault", [10] = "#TS invalid TSS",
    [11] = "#NP segment not present", [12] = "#SS stack fault",
    [13] = "#GP general protection", [14] = "#PF page fault",
    [16] = "#MF x87 error", [17] = "#AC alignment check",
    [18] = "#MC machine check", [19] = "#XM SIMD error"};

/* Counters the harness reads (stable symbols). */
uint64_t vmcheck_page_fault_count;

/* Panics for exception F; CR2 is the faulting address of a #PF (read at
 * its entry), 0 otherwise. */
static void kernel_exception(struct intr_frame *f, const char *what,
                             uintptr_t cr2) {
  struct thread *t = vmcheck_current_thread;
  vmcheck_hook_fault(f, cr2, VMCHECK_FAULT_PANIC);
  PANIC("exception %s (%lu) rip=0x%lx cr2=0x%lx err=0x%lx thread=%s", what,
        f->vec_no, f->rip, rcr2(), f->error_code, t ? t->name : "(none)");
}

static void generic_exception(struct intr_frame *f) {
  const char *what = exception_names[f->vec_no & 31];
  if (what == NULL)
    what = "reserved exception";
  if (intr_frame_is_user(f)) {
    vmcheck_hook_fault(f, 0, VMCHECK_FAULT_KILL);
    process_kill(f, what, 0);
  }
  kernel_exception(f, what, 0);
}

static void page_fault(struct intr_frame *f) {
  struct page_fault pf = {
      .addr = (void *)rcr2(),
      .not_present = !(f->error_code & PF_P),
      .write = (f->error_code & PF_W) != 0,
      .user = (f->error_code & PF_U) != 0,
      .frame = f};
  /* CR2 is read before interrupts come back on: a nested fault would
   * overwrite it. */
  vmcheck_page_fault_count++;
  uintptr_t cr2 = (uintptr_t)pf.addr;
  if (vmcheck_current_thread == NULL)
    kernel_exception(f, "#PF page fault (before threads)", cr2);
  if (f->rflags & FLAG_IF)
    intr_enable();
  enum fault_result r = vm_try_handle_fault(&pf);
  struct thread *t = thread_current();
  if (r == FAULT_RESOLVED) {
    if (!pf.user && t->usercopy_fixup == 0)
      vmcheck_hook_fault(f, cr2, VMCHECK_FAULT_KERNEL);
    return;
  }
  if (!pf.user && is_user_vaddr(pf.addr) && t->usercopy_fixup != 0) {
    vmcheck_hook_fault(f, cr2, VMCHECK_FAULT_FIXUP);
    f->rip = t->usercopy_fixup;
    t->usercopy_fixup = 0;
    return;
  }
#ifdef VMCHECK_MUTANT_panic_on_bad_access
  if (pf.user && r == FAULT_INVALID)
    kernel_exception(f, "#PF page fault (invalid user access)", cr2);
#endif
  if (pf.user) {
    vmcheck_hook_fault(f, cr2, VMCHECK_FAULT_KILL);
    process_kill(f,
                 r == FAULT_OUT_OF_MEMORY ? "#PF page fault (out of memory)"
                                          : "#PF page fault",
                 cr2);
  }
  /* A kernel thread with a process touching a bad user address outside
   * usercopy, or a kernel bug. */
  kernel_exception(f, "#PF page fault", cr2);
}

void exception_init(void) {
  for (int v = 0; v < 32; v++)
    intr_register_int((uint8_t)v, 0, generic_exception,
                      exception_names[v] ? exception_names[v] : "reserved");
  intr_register_int(14, 0, page_fault, "#PF page fault");
  /* int3 and into may be used from user mode; they kill the process. */
  intr_register_int(3, 3, generic_exception, exception_names[3]);
  intr_register_int(4, 3, generic_exception, exception_names[4]);
}
