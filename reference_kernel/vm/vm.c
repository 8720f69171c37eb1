/* Virtual-memory entry points. PLACEHOLDER until the VM issue lands: no
 * lazy loading yet (the process loader maps every page eagerly), so every
 * fault is an invalid access, and there is no swap. */
#include "vm/vm.h"

void vm_init(void) {}

enum fault_result vm_try_handle_fault(const struct page_fault *pf) {
  (void)pf;
  return FAULT_INVALID;
}

size_t vm_swap_slots_total(void) { return 0; }
size_t vm_swap_slots_free(void) { return 0; }
