// The kernel reference tests without Swift (Swift for aarch64 cannot be installed here): every
// available GEMM and narrow-deconvolution variant against the scalar references over the
// edge-shape matrix, layer kernels against their direct definitions, thread-count determinism,
// and prepacked weights against packing per call. Built natively and cross-built for aarch64 (run
// under qemu-aarch64 as Cortex-A72 and Cortex-A76) by tools/test-kernels.sh.
// Ends with "N passed, N failed"; exit status 1 on any failure.
#include "gan_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    if (failed <= 20) printf("FAIL: %s\n", what);
  }
}

static unsigned long long rng_state = 12345;
static float urand(void) {
  rng_state += 0x9E3779B97F4A7C15ull;
  unsigned long long z = rng_state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (float)(z >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

static float *frand(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = urand();
  return p;
}

static void *workspace(size_t bytes) { return aligned_alloc(64, (bytes + 64 + 63) / 64 * 64); }

// max |a - b| / (max |b| + 1e-6)
static float rel_err(const float *a, const float *b, size_t n) {
  float d = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(a[i])) return INFINITY;
    float e = fabsf(a[i] - b[i]);
    if (e > d) d = e;
    if (fabsf(b[i]) > m) m = fabsf(b[i]);
  }
  return d / (m + 1e-6f);
}

static float tol(size_t k) { return 2e-6f * sqrtf((float)k) + 1e-6f; }

static void test_gemm(int variant) {
  static const size_t ms[] = {1, 5, 7, 13, 48, 49, 100};
  static const size_t ns[] = {1, 3, 15, 17, 33, 64};
  static const size_t ks[] = {1, 7, 100, 257};
  const char *name = gk_gemm_variant_at(variant)->name;
  for (size_t mi = 0; mi < 7; mi++)
    for (size_t ni = 0; ni < 6; ni++)
      for (size_t ki = 0; ki < 4; ki++) {
        size_t m = ms[mi], n = ns[ni], k = ks[ki];
        int ta = (m + n + k) % 2 == 0, tb = (m * n + k) % 3 == 0;
        float *a = frand(m * k), *b = frand(k * n), *bias = frand(n), *c0 = frand(m * n);
        float *got = malloc(m * n * sizeof(float)), *want = malloc(m * n * sizeof(float));
        memcpy(got, c0, m * n * sizeof(float));
        memcpy(want, c0, m * n * sizeof(float));
        double *s1 = calloc(n, 8), *q1 = calloc(n, 8), *s2 = calloc(n, 8), *q2 = calloc(n, 8);
        unsigned char *u1 = calloc(m * n, 1), *u2 = calloc(m * n, 1);
        gk_operand A = ta ? gk_operand_matrix_t(a, m) : gk_operand_matrix(a, k);
        gk_operand B = tb ? gk_operand_matrix_t(b, k) : gk_operand_matrix(b, n);
        gk_output C1 = gk_output_dense(got, n), C2 = gk_output_dense(want, n);
        int acts[] = {GK_ACT_NONE, GK_ACT_RELU, GK_ACT_LRELU, GK_ACT_TANH};
        gk_epilogue e1 = {(int)(k % 2), bias, acts[(m + k) % 4], 0.2f, s1, q1, u1};
        gk_epilogue e2 = e1;
        e2.col_sum = s2; e2.col_sumsq = q2; e2.u8 = u2;
        void *ws = workspace(gk_f32_gemm_workspace_bytes(m, n, k, 2));
        gk_f32_gemm(m, n, k, &A, &B, &C1, &e1, ws, 2);
        gk_f32_gemm_ref(m, n, k, &A, &B, &C2, &e2);
        char what[160];
        snprintf(what, sizeof what, "%s gemm m=%zu n=%zu k=%zu tA=%d tB=%d: error %g", name, m, n, k, ta, tb,
                 rel_err(got, want, m * n));
        check(rel_err(got, want, m * n) <= tol(k), what);
        int stats_ok = 1, px_ok = 1;
        for (size_t j = 0; j < n; j++)
          if (fabs(s1[j] - s2[j]) > 1e-4 * (1 + q2[j]) || fabs(q1[j] - q2[j]) > 1e-4 * (1 + q2[j])) stats_ok = 0;
        for (size_t i = 0; i < m * n; i++)
          if (abs((int)u1[i] - (int)u2[i]) > 1) px_ok = 0;
        snprintf(what, sizeof what, "%s gemm m=%zu n=%zu k=%zu: column statistics", name, m, n, k);
        check(stats_ok, what);
        snprintf(what, sizeof what, "%s gemm m=%zu n=%zu k=%zu: uint8 epilogue", name, m, n, k);
        check(px_ok, what);
        free(a); free(b); free(bias); free(c0); free(got); free(want);
        free(s1); free(q1); free(s2); free(q2); free(u1); free(u2); free(ws);
      }
}

static void test_threads_and_packing(int variant) {
  const char *name = gk_gemm_variant_at(variant)->name;
  static const size_t shapes[][3] = {{300, 70, 600}, {1, 2100, 40}, {97, 3, 1000}, {16, 256, 2048}};
  for (int s = 0; s < 4; s++) {
    size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    float *a = frand(m * k), *b = frand(k * n);
    float *c[3];
    for (int t = 0; t < 3; t++) {
      c[t] = calloc(m * n, sizeof(float));
      gk_operand A = gk_operand_matrix(a, k), B = gk_operand_matrix(b, n);
      gk_output C = gk_output_dense(c[t], n);
      void *ws = workspace(gk_f32_gemm_workspace_bytes(m, n, k, t + 1));
      gk_f32_gemm(m, n, k, &A, &B, &C, NULL, ws, t + 1);
      free(ws);
    }
    char what[160];
    snprintf(what, sizeof what, "%s gemm %zux%zux%zu: bitwise equal for 1, 2, 3 threads", name, m, n, k);
    check(!memcmp(c[0], c[1], m * n * 4) && !memcmp(c[0], c[2], m * n * 4), what);
    // Prepacked B read in place equals packing per call.
    float *packed = malloc(gk_f32_gemm_packed_b_floats(k, n) * sizeof(float));
    gk_operand B = gk_operand_matrix(b, n);
    gk_operand P = gk_f32_gemm_pack_b(&B, k, n, packed);
    gk_operand A = gk_operand_matrix(a, k);
    float *cp = calloc(m * n, sizeof(float));
    gk_output C = gk_output_dense(cp, n);
    void *ws = workspace(gk_f32_gemm_workspace_bytes(m, n, k, 2));
    gk_f32_gemm(m, n, k, &A, &P, &C, NULL, ws, 2);
    snprintf(what, sizeof what, "%s gemm %zux%zux%zu: prepacked B", name, m, n, k);
    // Swapped mode (narrow n) sums in the same order: results are identical either way.
    check(rel_err(cp, c[0], m * n) <= tol(k), what);
    free(ws); free(cp); free(packed); free(a); free(b);
    for (int t = 0; t < 3; t++) free(c[t]);
  }
}

static void test_layers(int variant) {
  const char *name = gk_gemm_variant_at(variant)->name;
  static const int dshapes[][5] = {{1, 1, 1, 1, 1}, {1, 1, 1, 5, 3}, {2, 2, 2, 3, 17}, {1, 4, 4, 17, 20},
                                   {3, 5, 3, 8, 3}, {2, 4, 4, 33, 16}, {1, 8, 8, 16, 3}};
  static const int cshapes[][5] = {{1, 2, 2, 1, 1}, {1, 2, 2, 3, 5}, {2, 4, 4, 3, 17}, {1, 8, 8, 17, 20},
                                   {3, 6, 4, 8, 3}, {2, 8, 8, 16, 33}, {1, 4, 4, 64, 1}};
  char what[200];
  for (int s = 0; s < 7; s++) {
    int n = dshapes[s][0], h = dshapes[s][1], w = dshapes[s][2], ci = dshapes[s][3], co = dshapes[s][4];
    size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * 4 * h * w * co, wsz = 16 * (size_t)ci * co;
    float *x = frand(xs), *wt = frand(wsz), *dy = frand(ys), *bias = frand(co);
    float *y1 = calloc(ys, 4), *y2 = calloc(ys, 4), *dx1 = calloc(xs, 4), *dx2 = calloc(xs, 4);
    float *dw1 = frand(wsz), *dw2 = malloc(wsz * 4);
    memcpy(dw2, dw1, wsz * 4);
    void *ws = workspace(gk_f32_deconv4s2_workspace_bytes(n, h, w, ci, co, 2));
    gk_epilogue ep = {0, bias, GK_ACT_RELU, 0, NULL, NULL, NULL};
    gk_f32_deconv4s2_forward(n, h, w, ci, co, x, wt, &ep, y1, ws, 2);
    gk_f32_deconv4s2_forward_ref(n, h, w, ci, co, x, wt, &ep, y2);
    snprintf(what, sizeof what, "%s deconv (%d,%d,%d,%d,%d) forward", name, n, h, w, ci, co);
    check(rel_err(y1, y2, ys) <= tol(4 * ci), what);
    gk_f32_deconv4s2_backward_data(n, h, w, ci, co, dy, wt, dx1, ws, 2);
    gk_f32_deconv4s2_backward_data_ref(n, h, w, ci, co, dy, wt, dx2);
    snprintf(what, sizeof what, "%s deconv (%d,%d,%d,%d,%d) backward data", name, n, h, w, ci, co);
    check(rel_err(dx1, dx2, xs) <= tol(16 * co), what);
    gk_f32_deconv4s2_backward_weights(n, h, w, ci, co, x, dy, dw1, 1, ws, 2);
    gk_f32_deconv4s2_backward_weights_ref(n, h, w, ci, co, x, dy, dw2, 1);
    snprintf(what, sizeof what, "%s deconv (%d,%d,%d,%d,%d) backward weights", name, n, h, w, ci, co);
    check(rel_err(dw1, dw2, wsz) <= tol((size_t)n * h * w), what);
    // Packed weights (inference) give the same forward.
    float *packed = malloc(gk_f32_deconv4s2_packed_floats(ci, co) * 4), *y3 = calloc(ys, 4);
    gk_f32_deconv4s2_pack_weights(ci, co, wt, packed);
    gk_f32_deconv4s2_forward_packed(n, h, w, ci, co, x, packed, &ep, y3, ws, 2);
    snprintf(what, sizeof what, "%s deconv (%d,%d,%d,%d,%d) forward, packed weights", name, n, h, w, ci, co);
    check(rel_err(y3, y2, ys) <= tol(4 * ci), what);
    free(packed); free(y3);
    free(x); free(wt); free(dy); free(bias); free(y1); free(y2); free(dx1); free(dx2); free(dw1); free(dw2); free(ws);
  }
  for (int s = 0; s < 7; s++) {
    int n = cshapes[s][0], h = cshapes[s][1], w = cshapes[s][2], ci = cshapes[s][3], co = cshapes[s][4];
    size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * (h / 2) * (w / 2) * co, wsz = 16 * (size_t)ci * co;
    float *x = frand(xs), *wt = frand(wsz), *dy = frand(ys);
    float *y1 = calloc(ys, 4), *y2 = calloc(ys, 4), *dx1 = calloc(xs, 4), *dx2 = calloc(xs, 4);
    float *dw1 = calloc(wsz, 4), *dw2 = calloc(wsz, 4);
    void *ws = workspace(gk_f32_conv4s2_workspace_bytes(n, h, w, ci, co, 2));
    gk_epilogue ep = {0, NULL, GK_ACT_LRELU, 0.2f, NULL, NULL, NULL};
    gk_f32_conv4s2_forward(n, h, w, ci, co, x, wt, &ep, y1, ws, 2);
    gk_f32_conv4s2_forward_ref(n, h, w, ci, co, x, wt, &ep, y2);
    snprintf(what, sizeof what, "%s conv (%d,%d,%d,%d,%d) forward", name, n, h, w, ci, co);
    check(rel_err(y1, y2, ys) <= tol(16 * ci), what);
    gk_f32_conv4s2_backward_data(n, h, w, ci, co, dy, wt, dx1, ws, 2);
    gk_f32_conv4s2_backward_data_ref(n, h, w, ci, co, dy, wt, dx2);
    snprintf(what, sizeof what, "%s conv (%d,%d,%d,%d,%d) backward data", name, n, h, w, ci, co);
    check(rel_err(dx1, dx2, xs) <= tol(4 * co), what);
    gk_f32_conv4s2_backward_weights(n, h, w, ci, co, x, dy, dw1, 0, ws, 2);
    gk_f32_conv4s2_backward_weights_ref(n, h, w, ci, co, x, dy, dw2, 0);
    snprintf(what, sizeof what, "%s conv (%d,%d,%d,%d,%d) backward weights", name, n, h, w, ci, co);
    check(rel_err(dw1, dw2, wsz) <= tol((size_t)n * h * w / 4), what);
    free(x); free(wt); free(dy); free(y1); free(y2); free(dx1); free(dx2); free(dw1); free(dw2); free(ws);
  }
  static const int dense[][3] = {{1, 1, 1}, {1, 100, 272}, {4, 7, 3}, {5, 528, 1}, {64, 100, 512}};
  for (int s = 0; s < 5; s++) {
    int n = dense[s][0], kin = dense[s][1], kout = dense[s][2];
    float *x = frand((size_t)n * kin), *wt = frand((size_t)kin * kout), *dy = frand((size_t)n * kout);
    float *y1 = calloc((size_t)n * kout, 4), *y2 = calloc((size_t)n * kout, 4);
    float *dx1 = calloc((size_t)n * kin, 4), *dx2 = calloc((size_t)n * kin, 4);
    float *dw1 = calloc((size_t)kin * kout, 4), *dw2 = calloc((size_t)kin * kout, 4);
    void *ws = workspace(gk_f32_dense_workspace_bytes(n, kin, kout, 2));
    gk_f32_dense_forward(n, kin, kout, x, wt, NULL, y1, ws, 2);
    gk_f32_dense_forward_ref(n, kin, kout, x, wt, NULL, y2);
    snprintf(what, sizeof what, "%s dense (%d,%d,%d) forward", name, n, kin, kout);
    check(rel_err(y1, y2, (size_t)n * kout) <= tol(kin), what);
    gk_f32_dense_backward_data(n, kin, kout, dy, wt, dx1, ws, 2);
    gk_f32_dense_backward_data_ref(n, kin, kout, dy, wt, dx2);
    snprintf(what, sizeof what, "%s dense (%d,%d,%d) backward data", name, n, kin, kout);
    check(rel_err(dx1, dx2, (size_t)n * kin) <= tol(kout), what);
    gk_f32_dense_backward_weights(n, kin, kout, x, dy, dw1, 0, ws, 2);
    gk_f32_dense_backward_weights_ref(n, kin, kout, x, dy, dw2, 0);
    snprintf(what, sizeof what, "%s dense (%d,%d,%d) backward weights", name, n, kin, kout);
    check(rel_err(dw1, dw2, (size_t)kin * kout) <= tol(n), what);
    free(x); free(wt); free(dy); free(y1); free(y2); free(dx1); free(dx2); free(dw1); free(dw2); free(ws);
  }
}

static void test_narrow(int variant) {
  const char *name = gk_narrow_variant_at(variant)->name;
  static const int shapes[][5] = {{1, 1, 1, 1, 1}, {2, 3, 5, 7, 3}, {1, 4, 4, 8, 4}, {3, 2, 6, 17, 2},
                                  {2, 8, 8, 64, 3}, {1, 16, 16, 64, 1}};
  for (int s = 0; s < 6; s++) {
    int n = shapes[s][0], h = shapes[s][1], w = shapes[s][2], ci = shapes[s][3], co = shapes[s][4];
    size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * 4 * h * w * co;
    float *x = frand(xs), *wt = frand(16 * (size_t)ci * co), *bias = frand(co);
    float *packed = malloc(gk_f32_deconv4s2_narrow_floats(ci, co) * 4);
    gk_f32_deconv4s2_narrow_pack(ci, co, wt, packed);
    float *y1 = calloc(ys, 4), *y2 = calloc(ys, 4), *y3 = calloc(ys, 4), *ys_ref = calloc(ys, 4);
    gk_f32_deconv4s2_narrow_forward(n, h, w, ci, co, x, packed, bias, GK_ACT_TANH, y1, NULL, 2);
    gk_f32_deconv4s2_narrow_forward(n, h, w, ci, co, x, packed, bias, GK_ACT_TANH, y3, NULL, 1);
    gk_f32_deconv4s2_narrow_forward_ref(n, h, w, ci, co, x, packed, bias, GK_ACT_TANH, y2, NULL);
    gk_epilogue ep = {0, bias, GK_ACT_TANH, 0, NULL, NULL, NULL};
    gk_f32_deconv4s2_forward_ref(n, h, w, ci, co, x, wt, &ep, ys_ref);
    char what[160];
    snprintf(what, sizeof what, "%s (%d,%d,%d,%d,%d) vs reference", name, n, h, w, ci, co);
    check(rel_err(y1, y2, ys) <= tol(4 * ci), what);
    snprintf(what, sizeof what, "%s (%d,%d,%d,%d,%d) vs the scatter definition", name, n, h, w, ci, co);
    check(rel_err(y1, ys_ref, ys) <= tol(4 * ci), what);
    snprintf(what, sizeof what, "%s (%d,%d,%d,%d,%d) 1 vs 2 threads", name, n, h, w, ci, co);
    check(!memcmp(y1, y3, ys * 4), what);
    free(x); free(wt); free(bias); free(packed); free(y1); free(y2); free(y3); free(ys_ref);
  }
}

int main(void) {
  printf("kernel-driver: cpu %s\n", gk_cpu_features());
  for (int v = 0; v < gk_gemm_variant_count(); v++) {
    const gk_gemm_variant *g = gk_gemm_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    gk_gemm_force_variant(v);
    int before = passed + failed;
    test_gemm(v);
    test_threads_and_packing(v);
    test_layers(v);
    printf("  %s (%dx%d): %d checks\n", g->name, g->mr, g->nr, passed + failed - before);
  }
  gk_gemm_force_variant(-1);
  for (int v = 0; v < gk_narrow_variant_count(); v++) {
    const gk_narrow_variant *g = gk_narrow_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    gk_narrow_force_variant(v);
    int before = passed + failed;
    test_narrow(v);
    printf("  %s: %d checks\n", g->name, passed + failed - before);
  }
  gk_narrow_force_variant(-1);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
