// What Embedded Swift's standard library expects from its platform that glibc does not give
// under that name. Linked into the board build only (the SwiftPM build has the full runtime).
#include <stddef.h>
#include <stdlib.h>
#include <sys/random.h>

// Double(String) (the JSON reader's numbers): the runtime's locale-independent strtod. A program
// that never calls setlocale runs in the "C" locale, where strtod is exactly that.
const char *_swift_stdlib_strtod_clocale(const char *nptr, double *result) {
  char *end;
  *result = strtod(nptr, &end);
  return end;
}

// Hasher's per-process seed. glibc has arc4random_buf only from 2.36 (Debian 12); getrandom is in
// 2.25, so the binary also runs on older board images.
void arc4random_buf(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r <= 0) continue;
    p += r;
    n -= (size_t)r;
  }
}
