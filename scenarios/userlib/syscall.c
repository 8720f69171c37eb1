/* System-call stubs: the Pintos-KAIST user ABI. `syscall` instruction,
 * number in rax, arguments in rdi, rsi, rdx, r10, r8, r9, result in rax;
 * the instruction itself clobbers rcx and r11. */
#include "vmuser.h"

enum {
  SYS_HALT, SYS_EXIT, SYS_FORK, SYS_EXEC, SYS_WAIT, SYS_CREATE, SYS_REMOVE,
  SYS_OPEN, SYS_FILESIZE, SYS_READ, SYS_WRITE, SYS_SEEK, SYS_TELL, SYS_CLOSE,
  SYS_MMAP, SYS_MUNMAP
};

/* Issues system call NR with up to five arguments; returns rax. */
static inline uint64_t syscall5(uint64_t nr, uint64_t a1, uint64_t a2,
                                uint64_t a3, uint64_t a4, uint64_t a5) {
  register uint64_t r10 __asm__("r10") = a4;
  register uint64_t r8 __asm__("r8") = a5;
  uint64_t ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  return ret;
}

#define SC0(NR) syscall5((NR), 0, 0, 0, 0, 0)
#define SC1(NR, A) syscall5((NR), (uint64_t)(A), 0, 0, 0, 0)
#define SC2(NR, A, B) syscall5((NR), (uint64_t)(A), (uint64_t)(B), 0, 0, 0)
#define SC3(NR, A, B, C)                                                     \
  syscall5((NR), (uint64_t)(A), (uint64_t)(B), (uint64_t)(C), 0, 0)

void halt(void) {
  SC0(SYS_HALT);
  for (;;) /* the kernel powered off; never reached */
    __asm__ volatile("" ::: "memory");
}

void exit(int status) {
  SC1(SYS_EXIT, (int64_t)status);
  for (;;) /* the process is gone; never reached */
    __asm__ volatile("" ::: "memory");
}

pid_t fork(const char *thread_name) { return (pid_t)SC1(SYS_FORK, thread_name); }
int exec(const char *cmdline) { return (int)SC1(SYS_EXEC, cmdline); }
int wait(pid_t pid) { return (int)SC1(SYS_WAIT, (int64_t)pid); }
bool create(const char *file, unsigned initial_size) {
  return (bool)(SC2(SYS_CREATE, file, initial_size) & 0xff);
}
bool remove(const char *file) { return (bool)(SC1(SYS_REMOVE, file) & 0xff); }
int open(const char *file) { return (int)SC1(SYS_OPEN, file); }
int filesize(int fd) { return (int)SC1(SYS_FILESIZE, (int64_t)fd); }
int read(int fd, void *buffer, unsigned length) {
  return (int)SC3(SYS_READ, (int64_t)fd, buffer, length);
}
int write(int fd, const void *buffer, unsigned length) {
  return (int)SC3(SYS_WRITE, (int64_t)fd, buffer, length);
}
void seek(int fd, unsigned position) { SC2(SYS_SEEK, (int64_t)fd, position); }
unsigned tell(int fd) { return (unsigned)SC1(SYS_TELL, (int64_t)fd); }
void close(int fd) { SC1(SYS_CLOSE, (int64_t)fd); }

void *mmap(void *addr, size_t length, int writable, int fd, off_t offset) {
  return (void *)syscall5(SYS_MMAP, (uint64_t)addr, length, (int64_t)writable,
                          (int64_t)fd, (int64_t)offset);
}
void munmap(void *addr) { SC1(SYS_MUNMAP, addr); }

/* Pintos-KAIST's inspection interrupt: rax = user VA in, kernel VA of the
 * frame behind it out (0 if the page is not present). */
uint64_t get_phys_addr(const void *va) {
  uint64_t rax = (uint64_t)va;
  __asm__ volatile("int $0x42" : "+a"(rax) : : "memory");
  return rax;
}
