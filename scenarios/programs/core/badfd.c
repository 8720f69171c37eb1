/* badfd: system calls on file descriptors that are not open: -1, 1234,
 * and a descriptor that was opened and closed. Each case runs in its own
 * forked child, so one case cannot hide another. A case passes if the call
 * returns the error value (read, write, filesize: -1; seek, tell, close:
 * just return) or the kernel kills the child with exit(-1); both are what
 * Pintos-KAIST's *-bad-fd tests accept. One line per case says which:
 *   (badfd) read(fd -1): returned -1
 *   (badfd) close(fd closed): process killed
 * Expected: "(badfd) begin" ... "(badfd) end", exit 0. A wrong return
 * value: the child prints "(badfd) FAIL: ..." and the parent fails too. */
#include "vmuser.h"

enum fd_kind { FD_MINUS_ONE, FD_LARGE, FD_CLOSED, FD_KINDS };
enum call { CALL_READ, CALL_WRITE, CALL_FILESIZE, CALL_SEEK_TELL,
            CALL_CLOSE, CALLS };
static const char *fd_names[FD_KINDS] = {"-1", "1234", "closed"};
static const char *call_names[CALLS] = {"read", "write", "filesize",
                                        "seek/tell", "close"};
static const char *program_name;

static int bad_fd(enum fd_kind kind) {
  if (kind == FD_MINUS_ONE)
    return -1;
  if (kind == FD_LARGE)
    return 1234;
  int fd = open(program_name); /* the program's own file */
  if (fd < 2)
    fail("open(\"%s\") = %d", program_name, fd);
  close(fd);
  return fd;
}

/* Child: makes CALL on a bad descriptor; returns 0 if the result is the
 * error value (fails, exit 1, otherwise). */
static int run_case(enum call call, enum fd_kind kind) {
  int fd = bad_fd(kind);
  char buf[16];
  int r = -1;
  switch (call) {
  case CALL_READ: r = read(fd, buf, sizeof buf); break;
  case CALL_WRITE: r = write(fd, "bad fd\n", 7); break;
  case CALL_FILESIZE: r = filesize(fd); break;
  case CALL_SEEK_TELL: seek(fd, 5); (void)tell(fd); break;
  case CALL_CLOSE: close(fd); break;
  default: break;
  }
  if (r != -1)
    fail("%s(fd %s) returned %d, expected -1", call_names[call],
         fd_names[kind], r);
  return 0;
}

int main(int argc, char **argv) {
  test_name = "badfd";
  program_name = argc > 0 ? argv[0] : "badfd";
  msg("begin");
  for (int call = 0; call < CALLS; call++)
    for (int kind = 0; kind < FD_KINDS; kind++) {
      pid_t pid = fork("badfd-case");
      if (pid == 0)
        exit(run_case(call, kind));
      if (pid < 0)
        fail("fork returned %d", pid);
      int status = wait(pid);
      if (status != 0 && status != -1)
        fail("%s(fd %s): child exited with %d", call_names[call],
             fd_names[kind], status);
      bool has_result = call <= CALL_FILESIZE;
      msg("%s(fd %s): %s", call_names[call], fd_names[kind],
          status == -1 ? "process killed"
          : has_result ? "returned -1" : "returned");
    }
  msg("end");
  return 0;
}
