/* User processes: start, exec, wait, exit (fork is in process_fork.c).
 *
 * A process is a thread with a struct process (kernel/process_types.h).
 * Parent and child share a struct child_record that holds the child's
 * exit status; whichever ends last frees it, so wait works in any order.
 * process_run (the kernel's `run` action) is the parent of the first
 * process and returns once every process has ended, so that the leak
 * counts printed at power-off see all user memory returned. */
#include "kernel/process.h"

#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "kernel/console.h"
#include "kernel/debug.h"
#include "kernel/file.h"
#ifdef VMCHECK_MUTANT_wait_holds_fs_lock
#include "kernel/inode.h"
#endif
#include "kernel/malloc.h"
#include "kernel/palloc.h"
#include "kernel/process_load.h"
#include "kernel/process_types.h"
#include "kernel/synch.h"
#include "lib/string.h"

/* Processes that exist (started and not yet ended); a stable symbol the
 * harness reads. Protected by live_lock. */
int vmcheck_live_processes;
static struct lock live_lock;
static struct condition live_changed;

void process_init(void) {
  lock_init(&live_lock);
  cond_init(&live_changed);
}

void process_live_add(void) {
  lock_acquire(&live_lock);
  vmcheck_live_processes++;
  lock_release(&live_lock);
}

void process_live_remove(void) {
  lock_acquire(&live_lock);
  ASSERT(vmcheck_live_processes > 0);
  if (--vmcheck_live_processes == 0)
    cond_broadcast(&live_changed, &live_lock);
  lock_release(&live_lock);
}

static void wait_for_all_processes(void) {
  lock_acquire(&live_lock);
  while (vmcheck_live_processes > 0)
    cond_wait(&live_changed, &live_lock);
  lock_release(&live_lock);
}

struct process *process_current(void) { return thread_current()->process; }

struct child_record *child_record_create(void) {
  struct child_record *r = malloc(sizeof *r);
  if (r == NULL)
    return NULL;
  r->pid = PID_ERROR;
  r->exit_status = -1;
  sema_init(&r->exited, 0);
  r->holders = 2;
  return r;
}

void child_record_drop(struct child_record *r) {
  enum intr_level old = intr_disable();
  int left = --r->holders;
  intr_set_level(old);
  ASSERT(left >= 0);
  if (left == 0)
    free(r);
}

/* Reports STATUS through RECORD and drops the child's hold on it. */
static void child_record_finish(struct child_record *r, int status) {
  r->exit_status = status;
  sema_up(&r->exited);
  child_record_drop(r);
}

bool process_attach(struct child_record *record) {
  struct process *p = calloc(1, sizeof *p);
  if (p == NULL)
    return false;
  p->bounce = palloc_get_page(0);
  if (p->bounce == NULL || !fd_table_init(&p->fds)) {
    palloc_free_page(p->bounce);
    free(p);
    return false;
  }
  p->record = record;
  list_init(&p->children);
  thread_current()->process = p;
  return true;
}

void process_abandon(struct child_record *record) {
  child_record_finish(record, -1);
  process_live_remove();
  thread_exit();
}

/* Drops this process's hold on each child's record (the children run
 * on). */
static void release_children(struct process *p) {
  while (!list_empty(&p->children)) {
    struct list_elem *e = list_pop_front(&p->children);
    child_record_drop(list_entry(e, struct child_record, elem));
  }
}

void process_teardown(int status) {
  struct thread *t = thread_current();
  struct process *p = t->process;
  ASSERT(p != NULL);
  fd_table_destroy(&p->fds);
  file_close(p->executable);
  p->executable = NULL;
  process_release_memory();
  release_children(p);
  palloc_free_page(p->bounce);
  struct child_record *record = p->record;
  t->process = NULL;
  free(p);
  child_record_finish(record, status);
  process_live_remove();
  thread_exit();
}

void process_exit(int status) {
  struct thread *t = thread_current();
  if (t->process == NULL)
    thread_exit(); /* a kernel thread: nothing to report */
  printf("%s: exit(%d)\n", t->name, status);
  process_teardown(status);
}

void process_kill(const struct intr_frame *f, const char *reason,
                  uintptr_t cr2) {
  struct thread *t = thread_current();
  if (t->process == NULL)
    PANIC("process_kill: %s in kernel thread %s", reason, t->name);
  printf("vmcheck: user fault in %s: %s rip=0x%lx cr2=0x%lx err=0x%lx\n",
         t->name, reason, f->rip, cr2, f->error_code);
  process_exit(-1);
}

struct start_info {
  const char *cmdline;
  struct child_record *record;
};

/* Thread function of a process started by process_run. */
static void start_process(void *aux) {
  struct start_info *info = aux;
  struct child_record *record = info->record;
  if (!process_attach(record))
    process_abandon(record);
  struct load_plan plan;
  struct intr_frame frame;
  if (!load_prepare(info->cmdline, &plan))
    process_exit(-1);
  if (!load_commit(&plan, &frame))
    process_exit(-1);
  intr_exit_to(&frame);
}

int process_run(const char *cmdline) {
  char name[THREAD_NAME_MAX];
  argv_program_name(cmdline, name, sizeof name);
  struct child_record *record = child_record_create();
  if (record == NULL)
    return -1;
  /* INFO lives on this stack: this thread waits until the process ends. */
  struct start_info info = {cmdline, record};
  process_live_add();
  tid_t tid = thread_create(name, start_process, &info);
  if (tid == TID_ERROR) {
    process_live_remove();
    free(record);
    return -1;
  }
  record->pid = tid;
  sema_down(&record->exited);
  int status = record->exit_status;
  child_record_drop(record);
  wait_for_all_processes();
  return status;
}

int process_exec(const char *cmdline) {
  struct thread *t = thread_current();
  struct process *p = t->process;
  ASSERT(p != NULL);
  struct load_plan plan;
  if (!load_prepare(cmdline, &plan))
    return -1; /* the current program is untouched */
  /* Point of no return: the old image goes. */
  process_release_memory();
  file_close(p->executable);
  p->executable = NULL;
  strlcpy(t->name, plan.layout.program, sizeof t->name);
  struct intr_frame frame;
  if (!load_commit(&plan, &frame))
    process_exit(-1);
  intr_exit_to(&frame);
}

/* The record of P's child PID, or NULL if PID is not a child of P (or was
 * already waited for). */
static struct child_record *find_child(struct process *p, pid_t pid) {
  for (struct list_elem *e = list_begin(&p->children);
       e != list_end(&p->children); e = list_next(e)) {
    struct child_record *r = list_entry(e, struct child_record, elem);
    if (r->pid == pid)
      return r;
  }
  return NULL;
}

int process_wait(pid_t pid) {
  struct process *p = process_current();
  struct child_record *r = p != NULL ? find_child(p, pid) : NULL;
  if (r == NULL)
    return -1;
#ifdef VMCHECK_MUTANT_wait_holds_fs_lock
  /* the mistake: wait sleeps on the child holding the file-system lock
   * (as a handler that takes it around every system call would); the
   * child needs it to close its files as it exits */
  lock_acquire(&vmfs_lock);
  sema_down(&r->exited);
  lock_release(&vmfs_lock);
#else
  sema_down(&r->exited);
#endif
  int status = r->exit_status;
  list_remove(&r->elem);
  child_record_drop(r);
  return status;
}
