// The one OpenMP construct the kernels use: a parallel region whose threads partition work by
// hand. Debian's libomp formats a debug string (malloc + free) in every worksharing-loop init and
// allocates for a one-thread region, so there are no "omp for" loops and one thread runs directly.
#include "gk_internal.h"

void gk_barrier(int nth) {
  if (nth > 1) {
#pragma omp barrier
  }
}

void gk_run_parallel(int threads, void (*body)(void *ctx, int tid, int nth), void *ctx) {
  if (threads <= 1) {
    body(ctx, 0, 1);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    int nth = 1, tid = 0;
#ifdef _OPENMP
    nth = omp_get_num_threads();
    tid = omp_get_thread_num();
#endif
    body(ctx, tid, nth);
  }
}
