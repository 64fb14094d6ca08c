// Counts heap allocations in the process it is linked into (test binaries only): malloc, calloc,
// realloc, posix_memalign and aligned_alloc are wrapped around glibc's implementations (under
// AddressSanitizer, counted through its allocation hook instead).
#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
long gmc_allocations(void);
#endif
