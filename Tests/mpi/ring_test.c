// The MPI shim's reductions under mpirun: every rank contributes known values; the sums must be
// exact where exact (integers), the same bits on every rank, and equal to the ring order's sum;
// odd counts (fewer elements than ranks, remainders) included. Prints "N passed, N failed" on
// rank 0; exit status non-zero on a failure.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gan_mpi.h"

int main(void) {
  char err[512];
  if (gm_init(err, sizeof err)) { fprintf(stderr, "ring_test: %s\n", err); return 1; }
  int r = gm_rank(), p = gm_size(), pass = 0, fail = 0;
  static const size_t counts[] = {1, 2, 3, 5, 7, 64, 1001, 300000};
  for (int c = 0; c < 8; c++) {
    size_t n = counts[c];
    float *f = malloc(n * 4);
    double *d = malloc(n * 8);
    int32_t *m = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
      f[i] = (float)((i % 97) + 1000 * r);
      d[i] = 0.1 * (double)(i + 1) + r;
      m[i] = (int32_t)((i * 31 + (size_t)r * 7) % 13);
    }
    int ok = !gm_allreduce_sum_f32(f, n, err, sizeof err) && !gm_allreduce_sum_f64(d, n, err, sizeof err) &&
             !gm_allreduce_max_i32(m, n, err, sizeof err);
    if (!ok) fprintf(stderr, "rank %d: %s\n", r, err);
    for (size_t i = 0; ok && i < n; i++) {
      float fs = 0;
      double ds = 0;
      int32_t mm = 0;
      for (int k = 0; k < p; k++) {
        fs += (float)((i % 97) + 1000 * k);
        ds += 0.1 * (double)(i + 1) + k;
        int32_t v = (int32_t)((i * 31 + (size_t)k * 7) % 13);
        mm = v > mm ? v : mm;
      }
      ok = f[i] == fs && fabs(d[i] - ds) <= 1e-12 * fabs(ds) && m[i] == mm;
    }
    // The same bits everywhere: rank 0's result checked against everyone's through a max of
    // (bits) and a max of (-bits).
    int32_t bits[2];
    memcpy(&bits[0], &d[n / 2], 4);
    bits[1] = -bits[0];
    int32_t mine0 = bits[0], mine1 = bits[1];
    ok = ok && !gm_allreduce_max_i32(bits, 2, err, sizeof err) && bits[0] == mine0 && bits[1] == mine1;
    if (ok) pass++; else { fail++; fprintf(stderr, "rank %d: count %zu failed\n", r, n); }
    free(f); free(d); free(m);
  }
  int32_t totals[1] = {fail};
  gm_allreduce_max_i32(totals, 1, err, sizeof err);
  if (r == 0) printf("ring reductions over %d ranks: %d passed, %d failed (bytes sent by rank 0: %llu)\n", p, pass,
                     totals[0] ? fail + 1 : fail, (unsigned long long)gm_bytes_sent());
  gm_finalize();
  return totals[0] ? 1 : 0;
}
