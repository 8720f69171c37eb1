/* Interrupts, exceptions and the saved register frame (x86-64). */
#ifndef ARCH_INTR_H
#define ARCH_INTR_H

#include <stdbool.h>
#include <stdint.h>

/* General-purpose registers as pushed by intr_stubs.S (lowest address first). */
struct gp_registers {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rsi, rdi, rbp, rdx, rcx, rbx, rax;
};

/* What an interrupt, exception or system call leaves on the kernel stack.
 * For a system call, vec_no is SYSCALL_VECTOR and rsp is the user rsp at
 * the `syscall` instruction. */
struct intr_frame {
  struct gp_registers R;
  uint64_t vec_no;
  uint64_t error_code;
  uint64_t rip, cs, rflags, rsp, ss;
};

#define SYSCALL_VECTOR 0x100 /* pseudo vector for the syscall instruction */
#define INSPECT_VECTOR 0x42  /* int 0x42: get_phys_addr */

enum intr_level { INTR_OFF, INTR_ON };

enum intr_level intr_get_level(void);
enum intr_level intr_set_level(enum intr_level);
enum intr_level intr_enable(void);
enum intr_level intr_disable(void);

/* True while running an external (hardware) interrupt handler. */
bool intr_context(void);
/* From an external interrupt handler: yield to another thread on return. */
void intr_yield_on_return(void);

typedef void intr_handler_func(struct intr_frame *);

void intr_init(void);
/* Registers HANDLER for external interrupt VEC (0x20..0x2f) or for a
 * software interrupt callable from user mode when DPL is 3. */
void intr_register_ext(uint8_t vec, intr_handler_func *, const char *name);
void intr_register_int(uint8_t vec, int dpl, intr_handler_func *,
                       const char *name);

/* True if the frame was interrupted in user mode. */
static inline bool intr_frame_is_user(const struct intr_frame *f) {
  return (f->cs & 3) == 3;
}

/* Enters user mode with the register state in F; never returns. */
void intr_exit_to(const struct intr_frame *f) __attribute__((noreturn));

void intr_dump_frame(const struct intr_frame *);

#endif
