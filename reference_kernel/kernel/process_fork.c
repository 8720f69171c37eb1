/* fork: a child process with a copy of the parent's memory, open files
 * and registers. The parent waits until the child has finished copying,
 * so it returns the pid only for a child that will run, and its memory
 * does not change while the child copies it. */
#include "kernel/process.h"

#include "kernel/file.h"
#include "kernel/malloc.h"
#include "kernel/process_types.h"
#include "lib/string.h"

struct fork_info {
  struct thread *parent;
  struct intr_frame frame;     /* the parent's syscall frame */
  struct child_record *record;
  struct semaphore copied;     /* upped by the child when done copying */
  bool success;
};

/* Copies the parent's address space, open files and FPU state into the
 * running, freshly attached child. False if out of memory. */
static bool copy_parent(struct thread *parent) {
  struct process *pp = parent->process;
  struct process *cp = process_current();
  if (!process_memory_create() || !process_memory_copy(parent) ||
      !fd_table_duplicate(&cp->fds, &pp->fds))
    return false;
  cp->executable = file_duplicate(pp->executable);
  if (cp->executable == NULL)
    return false;
  /* The parent's user FPU state was saved when it blocked; load it as
   * ours with no switch in between (a switch would save over it). */
  struct thread *t = thread_current();
  enum intr_level old = intr_disable();
  memcpy(t->fpu_state, parent->fpu_state, sizeof t->fpu_state);
  __asm__ volatile("fxrstor %0" : : "m"(t->fpu_state));
  intr_set_level(old);
  return true;
}

/* Thread function of the child. */
static void fork_child(void *aux) {
  struct fork_info *info = aux;
  struct intr_frame frame = info->frame;
  struct child_record *record = info->record;
  if (!process_attach(record)) {
    info->success = false;
    sema_up(&info->copied);
    process_abandon(record);
  }
  bool ok = copy_parent(info->parent);
  info->success = ok;
  sema_up(&info->copied); /* INFO (the parent's stack) is gone after this */
  if (!ok)
    process_teardown(-1);
  frame.R.rax = 0; /* fork returns 0 in the child */
  intr_exit_to(&frame);
}

pid_t process_fork(const char *name, const struct intr_frame *f) {
  struct process *p = process_current();
  if (p == NULL)
    return PID_ERROR;
  struct child_record *record = child_record_create();
  if (record == NULL)
    return PID_ERROR;
  struct fork_info info = {
      .parent = thread_current(), .frame = *f, .record = record};
  sema_init(&info.copied, 0);
  list_push_back(&p->children, &record->elem);
  process_live_add();
  tid_t tid = thread_create(name, fork_child, &info);
  if (tid == TID_ERROR) {
    list_remove(&record->elem);
    process_live_remove();
    free(record);
    return PID_ERROR;
  }
  record->pid = tid;
  sema_down(&info.copied);
  if (!info.success) {
    list_remove(&record->elem);
    child_record_drop(record);
    return PID_ERROR;
  }
  return tid;
}
