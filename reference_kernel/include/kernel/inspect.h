/* int 0x42 (Pintos-KAIST get_phys_addr), callable from user mode:
 * RAX = user virtual address in; RAX = page-aligned kernel virtual address
 * (direct map) of the frame mapped there out, 0 if nothing is mapped.
 * Never faults, whatever the input. */
#ifndef KERNEL_INSPECT_H
#define KERNEL_INSPECT_H

/* Installs the int 0x42 handler. */
void inspect_init(void);

#endif
