/* Powering QEMU off through isa-debug-exit (iobase 0xf4). QEMU exits with
 * (code << 1) | 1, so a clean shutdown (33) cannot be confused with QEMU's
 * own failure (1) or with a triple fault under -no-reboot (0). */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#define POWER_EXIT_OK 0x10    /* QEMU exit status 33 */
#define POWER_EXIT_PANIC 0x11 /* QEMU exit status 35 */

void power_off(int code) __attribute__((noreturn));

#endif
