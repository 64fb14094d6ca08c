// Streaming passes and the sliced Wasserstein kernel against their references.
#include "driver.h"

// Streaming passes: every variant against the scalar references, sizes around the vector width.
void test_elementwise(int variant) {
  const gk_elementwise_variant *v = gk_elementwise_variant_at(variant);
  static const size_t shapes[][2] = {{1, 1}, {3, 5}, {7, 16}, {5, 17}, {2, 64}, {33, 3}, {4, 513}};
  for (int s = 0; s < 7; s++) {
    size_t rows = shapes[s][0], c = shapes[s][1], n = rows * c;
    float *x = frand(n), *scale = frand(c), *shift = frand(c), *y1 = calloc(n, 4), *y2 = calloc(n, 4);
    float *dy = frand(n);
    const int acts[] = {GK_ACT_NONE, GK_ACT_RELU, GK_ACT_LRELU};
    for (int a = 0; a < 3; a++) {
      v->bn_apply(rows, c, x, scale, shift, acts[a], 0.2f, y1);
      gk_f32_bn_apply_ref(rows, c, x, scale, shift, acts[a], 0.2f, y2);
      char what[160];
      snprintf(what, sizeof what, "%s bn_apply act %d (%zu x %zu)", v->name, acts[a], rows, c);
      check(rel_err(y1, y2, n) <= 1e-6f, what);
    }
    v->act_backward(n, x, dy, 0.2f, y1);
    gk_f32_act_backward_ref(n, x, dy, 0.2f, y2);
    char what[160];
    snprintf(what, sizeof what, "%s act_backward (%zu)", v->name, n);
    check(!memcmp(y1, y2, n * 4), what);
    v->tanh_backward(n, x, dy, y1);
    gk_f32_tanh_backward_ref(n, x, dy, y2);
    snprintf(what, sizeof what, "%s tanh_backward (%zu)", v->name, n);
    check(rel_err(y1, y2, n) <= 1e-6f, what);
    free(x); free(scale); free(shift); free(y1); free(y2); free(dy);
  }
}

// gk_f32_swd against gk_f32_swd_ref: row counts around the radix and GEMM granules, dimensions 1,
// odd and the descriptor's 147, direction counts around the 64-direction block; inputs with ties
// and signed zeros; 1, 2 and 3 threads bit for bit.
void test_swd(void) {
  static const size_t shapes[][3] = {{1, 1, 1}, {2, 5, 3}, {7, 147, 63}, {100, 147, 64}, {1000, 147, 65},
                                     {333, 9, 130}, {4097, 147, 8}};
  for (int s = 0; s < 7; s++) {
    size_t rows = shapes[s][0], dim = shapes[s][1];
    int ndir = (int)shapes[s][2];
    float *a = frand(rows * dim), *b = frand(rows * dim), *dirs = frand((size_t)ndir * dim);
    for (size_t i = 0; i < rows * dim; i += 7) a[i] = (i / 7) % 2 ? 0.0f : -0.0f;  // ties and signed zeros
    for (size_t i = 3; i < rows * dim; i += 11) b[i] = 0.5f;
    for (int d = 0; d < ndir; d++) {
      float n = 0;
      for (size_t k = 0; k < dim; k++) n += dirs[d * dim + k] * dirs[d * dim + k];
      for (size_t k = 0; k < dim; k++) dirs[d * dim + k] /= sqrtf(n);
    }
    double *want = calloc((size_t)ndir, 8), *got[3];
    void *ref_ws = workspace(gk_f32_swd_ref_workspace_bytes(rows));
    gk_f32_swd_ref(a, b, rows, dim, dirs, ndir, want, ref_ws);
    double worst = 0;
    for (int t = 0; t < 3; t++) {
      got[t] = calloc((size_t)ndir, 8);
      void *ws = workspace(gk_f32_swd_workspace_bytes(rows, dim, t + 1));
      gk_f32_swd(a, b, rows, dim, dirs, ndir, got[t], ws, t + 1);
      free(ws);
    }
    int finite = 1;
    for (int d = 0; d < ndir; d++) {
      if (!isfinite(got[0][d])) finite = 0;
      double e = fabs(got[0][d] - want[d]) / (fabs(want[d]) + 1e-6);
      if (e > worst) worst = e;
    }
    char what[160];
    snprintf(what, sizeof what, "swd rows=%zu dim=%zu ndir=%d: relative error %.3g", rows, dim, ndir, worst);
    check(finite && worst <= 1e-4, what);
    snprintf(what, sizeof what, "swd rows=%zu dim=%zu ndir=%d: 1, 2 and 3 threads identical", rows, dim, ndir);
    check(!memcmp(got[0], got[1], (size_t)ndir * 8) && !memcmp(got[0], got[2], (size_t)ndir * 8), what);
    free(a); free(b); free(dirs); free(want); free(ref_ws);
    for (int t = 0; t < 3; t++) free(got[t]);
  }
}
