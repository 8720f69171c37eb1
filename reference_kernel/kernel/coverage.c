/* Kernel coverage (COVERAGE=1 builds only; docs/coverage.md).
 *
 * The coverage build compiles arch/, kernel/ and vm/ with -fprofile-arcs
 * and -fprofile-info-section=vmcheck_gcov_info: every translation unit puts
 * a pointer to its gcov_info in that section instead of registering it
 * with a constructor. The linker wraps power_off (--wrap=power_off), so
 * every way the kernel ends (power-off, halt, panic) first comes here:
 * libgcov's __gcov_info_to_gcda turns each gcov_info into the bytes of its
 * .gcda file, and the bytes leave the machine through three hook functions
 * the harness breaks on (harness/course/coverage.py):
 *
 *   vmcheck_gcov_filename(name)   a new file begins (its .gcda path)
 *   vmcheck_gcov_dump(data, len)  the next LEN bytes of that file
 *   vmcheck_gcov_done(files)      all FILES files were sent
 *
 * The bytes are gathered in a chunk buffer first (libgcov hands them out a
 * word at a time), so the harness stops about twice per file, not once per
 * counter. Nothing is written anywhere when no debugger is attached: the
 * hooks do nothing by themselves. */
#ifndef VMCHECK_COVERAGE
#error "kernel/coverage.c belongs to the coverage build only (make COVERAGE=1)"
#endif

#include <gcov.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/intr.h"
#include "kernel/debug.h"
#include "kernel/hooks.h"
#include "lib/string.h"

#define COVERAGE_CHUNK_BYTES (32 * 1024)
#define COVERAGE_ARENA_BYTES 4096
#define MMAP_FAILED ((void *)-1)

/* Bounds of the section the compiler fills (GNU ld defines them for a
 * section whose name is a C identifier). */
extern const struct gcov_info *const __start_vmcheck_gcov_info[];
extern const struct gcov_info *const __stop_vmcheck_gcov_info[];

/* Hooks the harness breaks on (stable symbols, in .vmcheck.hooks). */
void vmcheck_gcov_filename(const char *name);
void vmcheck_gcov_dump(const void *data, unsigned len);
void vmcheck_gcov_done(unsigned files);

/* What libgcov needs from a C library, and the linker's wrap pair. */
void abort(void) __attribute__((noreturn));
void *mmap(void *addr, size_t length, int prot, int flags, int fd, long off);
void __gcov_merge_add(long long *counters, unsigned n_counters);
void __real_power_off(int code) __attribute__((noreturn));
void __wrap_power_off(int code) __attribute__((noreturn));

static unsigned char chunk[COVERAGE_CHUNK_BYTES];
static unsigned chunk_used;
static unsigned char arena[COVERAGE_ARENA_BYTES] __attribute__((aligned(16)));
static unsigned arena_used;

/* The empty asm statements keep GCC from dropping calls to empty hooks. */
VMCHECK_HOOK void vmcheck_gcov_filename(const char *name) {
  __asm__ volatile("" : : "r"(name) : "memory");
}

VMCHECK_HOOK void vmcheck_gcov_dump(const void *data, unsigned len) {
  __asm__ volatile("" : : "r"(data), "r"(len) : "memory");
}

VMCHECK_HOOK void vmcheck_gcov_done(unsigned files) {
  __asm__ volatile("" : : "r"(files) : "memory");
}

/* Sends the buffered bytes of the current file, if any. */
static void flush_chunk(void) {
  if (chunk_used > 0)
    vmcheck_gcov_dump(chunk, chunk_used);
  chunk_used = 0;
}

static void on_filename(const char *name, void *arg) {
  flush_chunk();
  vmcheck_gcov_filename(name != NULL ? name : "");
}

/* Appends LEN bytes of the current file, sending every full chunk. */
static void on_data(const void *data, unsigned len, void *arg) {
  const unsigned char *bytes = data;
  while (len > 0) {
    unsigned room = COVERAGE_CHUNK_BYTES - chunk_used;
    unsigned n = len < room ? len : room;
    memcpy(chunk + chunk_used, bytes, n);
    chunk_used += n;
    bytes += n;
    len -= n;
    if (chunk_used == COVERAGE_CHUNK_BYTES)
      flush_chunk();
  }
}

/* libgcov allocates only for value-profile counters, which -fprofile-arcs
 * does not make; a small bump arena covers it, NULL when used up. */
static void *allocate(unsigned size, void *arg) {
  unsigned start = (arena_used + 15u) & ~15u;
  if (size > COVERAGE_ARENA_BYTES || start > COVERAGE_ARENA_BYTES - size)
    return NULL;
  arena_used = start + size;
  return arena + start;
}

/* Streams every translation unit's .gcda out through the hooks. Runs once
 * (a panic inside it powers off without a second dump), with interrupts
 * off: libgcov is built for user space and keeps data in the red zone. */
static void coverage_dump(void) {
  static bool dumping;
  if (dumping)
    return;
  dumping = true;
  intr_disable();
  unsigned files = 0;
  for (const struct gcov_info *const *info = __start_vmcheck_gcov_info;
       info < __stop_vmcheck_gcov_info; info++) {
    if (*info == NULL)
      continue;
    __gcov_info_to_gcda(*info, on_filename, on_data, allocate, NULL);
    flush_chunk();
    files++;
  }
  vmcheck_gcov_done(files);
}

void __wrap_power_off(int code) {
  coverage_dump();
  __real_power_off(code);
}

void abort(void) {
  PANIC("coverage: libgcov aborted while writing gcov data");
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, long off) {
  return MMAP_FAILED;
}

/* Referenced by every gcov_info as the arc counters' merge function;
 * libgcov calls it only when merging into an existing .gcda file, which
 * happens on the host here (harness/course/coverage.py). */
void __gcov_merge_add(long long *counters, unsigned n_counters) {
  PANIC("coverage: __gcov_merge_add called; counts are merged on the host");
}
