#include "malloc_counter.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static long gmc_count;

long gmc_allocations(void) { return __atomic_load_n(&gmc_count, __ATOMIC_RELAXED); }

static void bump(void) { __atomic_fetch_add(&gmc_count, 1, __ATOMIC_RELAXED); }

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GMC_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GMC_UNDER_ASAN 1
#endif

#ifdef GMC_UNDER_ASAN
// AddressSanitizer owns malloc: interposing it as below aborts ASan's start-up (tsd_key_inited).
// Its allocation hook sees every malloc, calloc, realloc and memalign instead, so the
// allocation-free tests keep their meaning under tools/test.sh --sanitize.
#include <sanitizer/allocator_interface.h>
static void on_malloc(const volatile void *p, size_t n) { (void)p; (void)n; bump(); }
static void on_free(const volatile void *p) { (void)p; }
__attribute__((constructor)) static void gmc_install_hooks(void) {
  __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n) { bump(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { bump(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { bump(); return __libc_realloc(p, n); }
void *aligned_alloc(size_t align, size_t n) { bump(); return __libc_memalign(align, n); }
void *memalign(size_t align, size_t n) { bump(); return __libc_memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n) {
  bump();
  void *p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
#endif
