/* vmcheck user library: the Pintos-KAIST user ABI plus test helpers.
 * Every user program includes only this header. Programs link at 0x400000
 * (static ELF64, one text segment) so the same binaries run on the
 * reference kernel and on Pintos-KAIST kernels. */
#ifndef VMUSER_H
#define VMUSER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int pid_t;
typedef int32_t off_t;
#define PID_ERROR ((pid_t)-1)
#define MAP_FAILED ((void *)NULL)
#define PGSIZE 4096
#define USER_STACK 0x47480000UL
#define KERN_BASE 0x8004000000UL

/* ---- System calls (Pintos-KAIST numbers 0..15) ---- */
void halt(void) __attribute__((noreturn));
void exit(int status) __attribute__((noreturn));
pid_t fork(const char *thread_name);
int exec(const char *cmdline); /* returns only on failure (-1) */
int wait(pid_t pid);
bool create(const char *file, unsigned initial_size);
bool remove(const char *file);
int open(const char *file);
int filesize(int fd);
int read(int fd, void *buffer, unsigned length);
int write(int fd, const void *buffer, unsigned length);
void seek(int fd, unsigned position);
unsigned tell(int fd);
void close(int fd);
void *mmap(void *addr, size_t length, int writable, int fd, off_t offset);
void munmap(void *addr);

/* int 0x42: kernel VA of the frame mapping user address VA, 0 if none. */
uint64_t get_phys_addr(const void *va);

/* A function that does nothing, is never inlined and sits alone on its own
 * page (section .vmcheck.checkpoint), so the harness can stop here without
 * slowing other code. ID names the checkpoint in scenario files. */
void checkpoint(int id);

/* ---- Strings and memory ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);
int atoi(const char *s);

/* ---- Output (to fd 1; one write() per call so lines never interleave) ---- */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list);

/* ---- Test helpers (same output format as Pintos-KAIST tests/lib.c) ----
 * test_name is set by the program's main before using these:
 *   msg("x")   prints "(NAME) x"
 *   fail("x")  prints "(NAME) FAIL: x" and exits with status 1
 *   CHECK(cond, "x") prints "(NAME) x" and fails if cond is false. */
extern const char *test_name;
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define CHECK(SUCCESS, ...)                                                  \
  do {                                                                       \
    msg(__VA_ARGS__);                                                        \
    if (!(SUCCESS))                                                          \
      fail(__VA_ARGS__);                                                     \
  } while (0)

/* Deterministic pseudo-random numbers (for page-shuffle etc.). */
void random_init(unsigned seed);
unsigned long random_ulong(void);

#endif
