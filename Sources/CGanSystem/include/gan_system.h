// CGanSystem: the POSIX and libm calls of the board path (GanKernels, GanModel, GanImage,
// GanRuntime, gan-gen), for both builds. Embedded Swift cannot import Glibc's Swift overlay, but
// it imports C headers: this one pulls in the system headers and wraps the few things Swift
// cannot import from them (errno is a macro, open is variadic, MAP_FAILED is a cast).
#ifndef GAN_SYSTEM_H
#define GAN_SYSTEM_H

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/// snprintf(buf, size, "%.*f" or "%.*e", digits, x): printf's formatting, which Swift cannot call
/// (variadic). Returns the length snprintf would write.
int gs_format_double(char *buf, size_t size, double x, int digits, int scientific);
/// errno of the calling thread.
int gs_errno(void);
/// open(path, flags, mode): the variadic open(2) with its mode always given.
int gs_open(const char *path, int flags, unsigned int mode);
/// mmap's failure value, MAP_FAILED.
void *gs_map_failed(void);
/// Whether st_mode is a regular file (S_ISREG).
int gs_is_regular(const struct stat *st);
/// Monotonic clock in seconds.
double gs_monotonic_seconds(void);
/// Writes a whole string to standard error / standard output (unbuffered for stderr).
void gs_write_stderr(const char *text);
void gs_write_stdout(const char *text);
/// The process's arguments as main received them (argv[0] first): saved at start-up by an
/// .init_array entry, which glibc calls with (argc, argv, envp). Embedded Swift has no CommandLine.
int gs_argc(void);
char *const *gs_argv(void);
/// Ends the process with `status` after flushing stdout.
void gs_exit(int status) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
