/* dl-abba: two processes, two system calls that each need the file system
 * and the VM: the parent read()s large.txt into fresh, never-touched
 * memory (each page faults in during the copy), READ_ROUNDS times; the
 * child mmaps the file, dirties every mapped page and munmaps it (each
 * page is written back), MAP_ROUNDS times, at the same time. A correct
 * kernel never holds the file-system lock and the VM lock in opposite
 * orders (the reference kernel holds neither across the other), so both
 * finish and the parent checks what it read. A kernel whose read() copies
 * into the user buffer inside the file system (its faults take the VM
 * lock under the file-system lock) and whose munmap writes back under the
 * VM lock (mutant lock-order-read-munmap) deadlocks ABBA when the child
 * is preempted in a write-back while the parent reads: the scenario
 * dl-abba makes that preemption (a yield at the child's first file_write,
 * where a timer interrupt could land), docs/mutants.md. */
#include "deadlock.h"

#define READ_PAGES 64                       /* 256 KiB of large.txt per read */
#define READ_ROUNDS 4
#define MAP_PAGES 16
#define MAP_ROUNDS 2
#define MAP_ADDR ((char *)0x10000000)

char read_buf[READ_ROUNDS][READ_PAGES * PGSIZE] __attribute__((aligned(PGSIZE)));

/* The child: map, dirty, unmap, MAP_ROUNDS times. */
static int writer(void) {
  int fd = open_or_fail("large.txt");
  for (int round = 0; round < MAP_ROUNDS; round++) {
    char *map = mmap(MAP_ADDR, MAP_PAGES * PGSIZE, 1, fd, 0);
    if (map != MAP_ADDR)
      fail("round %d: mmap of \"large.txt\" returned %p", round, map);
    for (size_t i = 0; i < MAP_PAGES; i++)
      ((volatile char *)map)[i * PGSIZE + 100] = map[i * PGSIZE + 100];   /* dirty, same byte */
    munmap(map);
  }
  close(fd);
  return 0;
}

/* The parent: read the file into a fresh buffer each round. */
static void reader(void) {
  for (int round = 0; round < READ_ROUNDS; round++)
    read_large_into(read_buf[round], READ_PAGES * PGSIZE, round);
}

int main(void) {
  msg("begin");
  pid_t pid = fork("dl-abba-child");
  if (pid == 0)
    exit(writer());
  if (pid < 0)
    fail("fork failed");
  reader();
  int status = wait(pid);
  if (status != 0)
    fail("the child exited with %d, expected 0", status);
  msg("%d reads and %d map-dirty-unmap rounds done", READ_ROUNDS, MAP_ROUNDS);
  msg("end");
  return 0;
}
