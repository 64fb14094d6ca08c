// peak-rss FILE PROGRAM [ARGS...]: runs PROGRAM, writes its peak resident set (KiB) to FILE and
// exits with its status. A separate small process, because Linux carries the high-water mark of
// the address space that execs: a child spawned straight from the (large) test runner would
// report the runner's RSS, not its own.
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: peak-rss FILE PROGRAM [ARGS...]\n"); return 64; }
  pid_t pid = fork();
  if (pid < 0) { perror("peak-rss: fork"); return 71; }
  if (pid == 0) {
    execv(argv[2], argv + 2);
    perror("peak-rss: exec");
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) { perror("peak-rss: wait4"); return 71; }
  }
  FILE *f = fopen(argv[1], "w");
  if (!f) { perror(argv[1]); return 73; }
  fprintf(f, "%ld\n", usage.ru_maxrss);
  fclose(f);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
