#include "gan_system.h"

int gs_errno(void) { return errno; }

int gs_format_double(char *buf, size_t size, double x, int digits, int scientific) {
  return snprintf(buf, size, scientific ? "%.*e" : "%.*f", digits, x);
}

int gs_open(const char *path, int flags, unsigned int mode) { return open(path, flags, (mode_t)mode); }

void *gs_map_failed(void) { return MAP_FAILED; }

int gs_is_regular(const struct stat *st) { return S_ISREG(st->st_mode); }

double gs_monotonic_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void gs_write_stderr(const char *text) { fputs(text, stderr); fflush(stderr); }

void gs_write_stdout(const char *text) { fputs(text, stdout); }

void gs_exit(int status) {
  fflush(stdout);
  exit(status);
}

static int saved_argc;
static char **saved_argv;

static void gs_save_arguments(int argc, char **argv, char **envp) {
  (void)envp;
  saved_argc = argc;
  saved_argv = argv;
}

__attribute__((section(".init_array"), used)) static void (*gs_save_arguments_entry)(int, char **,
    char **) = gs_save_arguments;

int gs_argc(void) { return saved_argc; }

char *const *gs_argv(void) { return saved_argv; }
