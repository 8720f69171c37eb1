/* x86-64 instructions and registers used outside the arch layer only
 * through wrappers (port I/O, MSRs, control registers). */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdint.h>

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_NXE (1u << 11)
#define FLAG_IF 0x200
#define FLAG_MBS 0x2 /* must be set */

static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint16_t inw(uint16_t port) {
  uint16_t v;
  __asm__ volatile("inw %w1, %w0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void outb(uint16_t port, uint8_t v) {
  __asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v) {
  __asm__ volatile("outw %w0, %w1" : : "a"(v), "Nd"(port));
}
/* Reads CNT 16-bit words from PORT into BUF. */
static inline void insw(uint16_t port, void *buf, uint32_t cnt) {
  __asm__ volatile("rep insw" : "+D"(buf), "+c"(cnt) : "d"(port) : "memory");
}
/* Writes CNT 16-bit words from BUF to PORT. */
static inline void outsw(uint16_t port, const void *buf, uint32_t cnt) {
  __asm__ volatile("rep outsw" : "+S"(buf), "+c"(cnt) : "d"(port) : "memory");
}
static inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void lcr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void invlpg(const void *va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline void cpu_halt(void) { __asm__ volatile("hlt"); }
static inline void barrier(void) { __asm__ volatile("" : : : "memory"); }

#endif
