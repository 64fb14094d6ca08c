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

// Winograd F(2x2, 2x2) and F(4x4, 2x2) against the scatter references: the deconvolution forward
// (bias, ReLU, pixels) and, with transposed packing, the Conv2d(4, 2, 1) backward-data, and the
// Conv2d(4, 2, 1) forward on its space-to-depth grid (bias, LeakyReLU, column statistics). Shapes:
// maps that are multiples of both tiles and odd channel counts. Prints the worst relative max
// error per tile; the bounds are 2x (tile 2) and 8x (tile 4) the direct kernels' tolerance.
// Measured (2026-11-24, AVX2 natively and NEON under qemu alike): relative max error F(2x2, 2x2)
// 1.9e-6 and F(4x4, 2x2) 6.2e-6 (deconvolution, backward-data), 4.0e-6 and 9.2e-6 (convolution
// forward, K up to 5200); max abs error 0.00042 and 0.00047 on outputs up to 141.
static float winograd_worst[5], winograd_conv_worst[5], winograd_abs[5], winograd_ref_max;
static void note_abs(int tile, const float *a, const float *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (fabsf(a[i] - b[i]) > winograd_abs[tile]) winograd_abs[tile] = fabsf(a[i] - b[i]);
    if (fabsf(b[i]) > winograd_ref_max) winograd_ref_max = fabsf(b[i]);
  }
}
static void test_winograd(int variant) {
  const char *name = gk_gemm_variant_at(variant)->name;
  // Blocks of tiles (micro-kernel called in place) unless a column panel of the transformed
  // weights passes 512 KB: 640 input channels run F(4x4) as whole-pass matrices and F(2x2) in
  // blocks with K split over three GEMM K blocks; 1300 channels run both as whole-pass matrices.
  // As convolutions (K = 4 cin) 200 channels and up run F(4x4) whole-pass.
  static const int shapes[][5] = {{1, 4, 4, 1, 1}, {2, 4, 4, 3, 17}, {1, 4, 8, 17, 20}, {3, 8, 4, 8, 3},
                                  {2, 8, 8, 33, 16}, {1, 4, 4, 64, 64}, {1, 8, 8, 128, 40},
                                  {2, 4, 4, 200, 64}, {1, 4, 4, 640, 48}, {1, 4, 4, 1300, 20}};
  char what[200];
  for (int tile = 2; tile <= 4; tile += 2)
    for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++) {
      int n = shapes[s][0], h = shapes[s][1], w = shapes[s][2], ci = shapes[s][3], co = shapes[s][4];
      size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * 4 * h * w * co, wsz = 16 * (size_t)ci * co;
      int al = tile + 1;
      float *x = frand(xs), *wt = frand(wsz), *bias = frand(co), *y1 = calloc(ys, 4), *y2 = calloc(ys, 4);
      float *packed = malloc(gk_f32_deconv4s2_winograd_packed_floats(tile, ci, co) * 4);
      float *scratch = malloc((size_t)al * al * ci * co * 4);
      uint8_t *px = calloc(ys, 1);
      void *ws = workspace(gk_f32_deconv4s2_winograd_workspace_bytes(tile, n, h, w, ci, co, 2));
      gk_f32_deconv4s2_winograd_pack_weights(tile, ci, co, wt, 0, packed, scratch, 2);
      gk_epilogue ep = {0, bias, GK_ACT_RELU, 0, NULL, NULL, px};
      gk_f32_deconv4s2_winograd_forward(tile, n, h, w, ci, co, x, packed, &ep, y1, ws, 2);
      ep.u8 = NULL;
      gk_f32_deconv4s2_forward_ref(n, h, w, ci, co, x, wt, &ep, y2);
      float e = rel_err(y1, y2, ys), bound = (tile == 2 ? 2 : 8) * tol(4 * ci);
      note_abs(tile, y1, y2, ys);
      if (e > winograd_worst[tile]) winograd_worst[tile] = e;
      snprintf(what, sizeof what, "%s winograd F(%d,2) deconv (%d,%d,%d,%d,%d) forward: %.2g <= %.2g", name, tile,
               n, h, w, ci, co, e, bound);
      check(e <= bound, what);
      uint8_t *conv = malloc(ys);
      gk_f32_to_u8_ref(ys, y1, conv);
      int pixels_ok = !memcmp(px, conv, ys);
      free(conv);
      snprintf(what, sizeof what, "%s winograd F(%d,2) (%d,%d,%d,%d,%d) pixels", name, tile, n, h, w, ci, co);
      check(pixels_ok, what);
      // BatchNorm column statistics of the output (no activation), as the training forward asks.
      double *s1 = calloc(co, 8), *q1 = calloc(co, 8), *s2 = calloc(co, 8), *q2 = calloc(co, 8);
      gk_epilogue st = {0, NULL, GK_ACT_NONE, 0, s1, q1, NULL};
      gk_f32_deconv4s2_winograd_forward(tile, n, h, w, ci, co, x, packed, &st, y1, ws, 2);
      st.col_sum = s2; st.col_sumsq = q2;
      gk_f32_deconv4s2_forward_ref(n, h, w, ci, co, x, wt, &st, y2);
      double stat_err = 0;
      for (int c = 0; c < co; c++) {
        double es = fabs(s1[c] - s2[c]) / (fabs(q2[c]) + 1e-9), eq = fabs(q1[c] - q2[c]) / (q2[c] + 1e-9);
        if (es > stat_err) stat_err = es;
        if (eq > stat_err) stat_err = eq;
      }
      snprintf(what, sizeof what, "%s winograd F(%d,2) (%d,%d,%d,%d,%d) column statistics: %.2g", name, tile, n, h, w,
               ci, co, stat_err);
      check(stat_err <= 8 * bound, what);
      free(s1); free(q1); free(s2); free(q2);
      // The same map as the backward-data of a Conv2d(4, 2, 1) from co channels (at 2h x 2w) to ci.
      float *dx = calloc(ys, 4), *dx_ref = calloc(ys, 4);
      float *cw = frand(wsz);  // 16 x co x ci (the convolution's KKIO)
      gk_f32_deconv4s2_winograd_pack_weights(tile, ci, co, cw, 1, packed, scratch, 1);
      gk_f32_deconv4s2_winograd_forward(tile, n, h, w, ci, co, x, packed, NULL, dx, ws, 2);
      gk_f32_conv4s2_backward_data_ref(n, 2 * h, 2 * w, co, ci, x, cw, dx_ref);
      e = rel_err(dx, dx_ref, ys);
      note_abs(tile, dx, dx_ref, ys);
      if (e > winograd_worst[tile]) winograd_worst[tile] = e;
      snprintf(what, sizeof what, "%s winograd F(%d,2) conv backward data (%d,%d,%d,%d,%d): %.2g <= %.2g", name,
               tile, n, 2 * h, 2 * w, co, ci, e, bound);
      check(e <= bound, what);
      // Conv2d(4, 2, 1) forward from (n, 2h, 2w, ci) to (n, h, w, co) on the space-to-depth grid:
      // LeakyReLU with bias, then the column statistics of the plain output.
      {
        size_t cxs = 4 * xs, cys = (size_t)n * h * w * co;
        float *cx = frand(cxs), *c1 = calloc(cys, 4), *c2 = calloc(cys, 4);
        float *cpacked = malloc(gk_f32_conv4s2_winograd_packed_floats(tile, ci, co) * 4);
        float *cscratch = malloc((size_t)al * al * 4 * ci * co * 4);
        void *cws = workspace(gk_f32_conv4s2_winograd_workspace_bytes(tile, n, 2 * h, 2 * w, ci, co, 2));
        gk_f32_conv4s2_winograd_pack_weights(tile, ci, co, wt, cpacked, cscratch, 2);
        gk_epilogue cep = {0, bias, GK_ACT_LRELU, 0.2f, NULL, NULL, NULL};
        gk_f32_conv4s2_winograd_forward(tile, n, 2 * h, 2 * w, ci, co, cx, cpacked, &cep, c1, cws, 2);
        gk_f32_conv4s2_forward_ref(n, 2 * h, 2 * w, ci, co, cx, wt, &cep, c2);
        float cbound = (tile == 2 ? 2 : 8) * tol(16 * ci);
        e = rel_err(c1, c2, cys);
        note_abs(tile, c1, c2, cys);
        if (e > winograd_conv_worst[tile]) winograd_conv_worst[tile] = e;
        snprintf(what, sizeof what, "%s winograd F(%d,2) conv (%d,%d,%d,%d,%d) forward: %.2g <= %.2g", name, tile, n,
                 2 * h, 2 * w, ci, co, e, cbound);
        check(e <= cbound, what);
        double *cs1 = calloc(co, 8), *cq1 = calloc(co, 8), *cs2 = calloc(co, 8), *cq2 = calloc(co, 8);
        gk_epilogue cst = {0, NULL, GK_ACT_NONE, 0, cs1, cq1, NULL};
        gk_f32_conv4s2_winograd_forward(tile, n, 2 * h, 2 * w, ci, co, cx, cpacked, &cst, c1, cws, 1);
        cst.col_sum = cs2; cst.col_sumsq = cq2;
        gk_f32_conv4s2_forward_ref(n, 2 * h, 2 * w, ci, co, cx, wt, &cst, c2);
        double cstat = 0;
        for (int c = 0; c < co; c++) {
          double es = fabs(cs1[c] - cs2[c]) / (fabs(cq2[c]) + 1e-9), eq = fabs(cq1[c] - cq2[c]) / (cq2[c] + 1e-9);
          if (es > cstat) cstat = es;
          if (eq > cstat) cstat = eq;
        }
        snprintf(what, sizeof what, "%s winograd F(%d,2) conv (%d,%d,%d,%d,%d) column statistics: %.2g", name, tile,
                 n, 2 * h, 2 * w, ci, co, cstat);
        check(cstat <= 8 * cbound, what);
        free(cs1); free(cq1); free(cs2); free(cq2);
        free(cx); free(c1); free(c2); free(cpacked); free(cscratch); free(cws);
      }
      free(x); free(wt); free(bias); free(y1); free(y2); free(packed); free(scratch); free(px); free(ws);
      free(dx); free(dx_ref); free(cw);
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

// int8 layers: gk_q8_run (1 and 2 threads, alone and chained) against gk_q8_layer_ref, bit for bit,
// over odd channel counts, borders, partial tiles and every input and output mode.
static int8_t *q8rand(size_t n) {
  int8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)lrintf(urand() * 127.0f);
  return p;
}
static uint8_t *u8rand(size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)lrintf((urand() + 1.0f) * 127.5f);
  return p;
}

static void q8_case(const char *name, gk_q8_layer l, const int8_t *w_ref, size_t ys) {
  const char *outs[] = {"u8", "f32+relu", "f32+tanh"};
  char what[200];
  snprintf(what, sizeof what, "%s %s (%d,%d,%d,%d,%d) in %s%s -> %s", name,
           l.kind == GK_Q8_DENSE ? "dense" : (l.kind == GK_Q8_DECONV4S2 ? "deconv" : "winograd deconv"), l.n, l.h, l.w, l.cin, l.cout,
           l.x_u8 ? "u8" : "f32", l.x_signed ? " signed" : "", outs[l.out]);
  size_t bytes = l.out == GK_Q8_OUT_U8 ? ys : ys * 4;
  void *ref = calloc(bytes, 1), *got = calloc(bytes, 1);
  uint8_t *pix_ref = calloc(ys, 1), *pix_got = calloc(ys, 1);
  gk_q8_layer r = l;
  if (l.out == GK_Q8_OUT_U8) r.y_u8 = ref; else r.y_f32 = ref;
  if (l.out == GK_Q8_OUT_F32_TANH) r.pixels = pix_ref;
  gk_q8_layer_ref(&r, w_ref);
  for (int threads = 1; threads <= 2; threads++) {
    gk_q8_layer g = r;
    if (l.out == GK_Q8_OUT_U8) g.y_u8 = got; else g.y_f32 = got;
    if (l.out == GK_Q8_OUT_F32_TANH) g.pixels = pix_got;
    memset(got, 0xEE, bytes);
    void *ws = workspace(gk_q8_workspace_bytes(&g, 1, threads));
    gk_q8_run(&g, 1, ws, threads);
    free(ws);
    char t[300];
    snprintf(t, sizeof t, "%s, %d thread(s): bitwise equal to the reference", what, threads);
    check(!memcmp(got, ref, bytes) && !memcmp(pix_got, pix_ref, ys), t);
  }
  free(ref); free(got); free(pix_ref); free(pix_got);
}

static void test_q8(int variant) {
  const char *name = gk_q8_variant_at(variant)->name;
  static const int deconv[][5] = {{1, 1, 1, 1, 1}, {2, 3, 5, 7, 3}, {1, 4, 4, 8, 16}, {3, 2, 6, 17, 21},
                                  {2, 4, 4, 64, 40}, {1, 8, 8, 32, 3}, {1, 4, 4, 128, 64},
                                  {2, 5, 3, 20, 4}, {1, 16, 16, 64, 3}, {3, 2, 2, 33, 2}};
  for (int s = 0; s < 10; s++) {
    int n = deconv[s][0], h = deconv[s][1], w = deconv[s][2], ci = deconv[s][3], co = deconv[s][4];
    size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * 4 * h * w * co;
    int8_t *wt = q8rand(16 * (size_t)ci * co);
    int8_t *packed = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, ci, co));
    gk_q8_pack_deconv4s2_torch(ci, co, wt, packed);
    uint8_t *xu = u8rand(xs);
    float *xf = frand(xs), *mult = malloc(co * 4), *bias = frand(co);
    for (int c = 0; c < co; c++) { mult[c] = (0.6f + 0.1f * (c % 5)) * 255.0f / (sqrtf(4.0f * ci) * 9000.0f); bias[c] *= 40.0f; }
    for (int out = 0; out < 3; out++) {
      gk_q8_layer l = {GK_Q8_DECONV4S2, n, h, w, ci, co, xu, NULL, 0, 0, packed, mult, bias, out, NULL, NULL, NULL};
      q8_case(name, l, wt, ys);
      l.x_u8 = NULL; l.x_f32 = xf; l.x_inv_scale = 300.0f;  // clamps at both ends
      q8_case(name, l, wt, ys);
    }
    free(wt); free(packed); free(xu); free(xf); free(mult); free(bias);
  }
  static const int dense[][3] = {{1, 1, 1}, {1, 100, 8192}, {3, 7, 17}, {7, 101, 48}, {64, 100, 33}};
  for (int s = 0; s < 5; s++) {
    int n = dense[s][0], ki = dense[s][1], ko = dense[s][2];
    int8_t *wt = q8rand((size_t)ki * ko);
    int8_t *packed = malloc(gk_q8_packed_bytes(GK_Q8_DENSE, ki, ko));
    gk_q8_pack_dense(ki, ko, wt, packed);
    float *xf = frand((size_t)n * ki), *mult = malloc(ko * 4), *bias = frand(ko);
    uint8_t *xu = u8rand((size_t)n * ki);
    for (int c = 0; c < ko; c++) { mult[c] = 255.0f / (sqrtf((float)ki) * 4000.0f); bias[c] *= 40.0f; }
    gk_q8_layer l = {GK_Q8_DENSE, n, 1, 1, ki, ko, NULL, xf, 60.0f, 1, packed, mult, bias, GK_Q8_OUT_U8, NULL, NULL, NULL};
    q8_case(name, l, wt, (size_t)n * ko);
    l.x_f32 = NULL; l.x_u8 = xu; l.x_signed = 0; l.out = GK_Q8_OUT_F32_RELU;
    q8_case(name, l, wt, (size_t)n * ko);
    free(wt); free(packed); free(xf); free(mult); free(bias); free(xu);
  }
  // The projection packer against its definition: column (ky * 4 + kx) * c + ch of row k is
  // torch[k][ch][ky][kx].
  {
    int nz = 5, c = 3;
    int8_t *torch = q8rand((size_t)nz * c * 16), *dense_w = malloc((size_t)nz * c * 16);
    for (int k = 0; k < nz; k++)
      for (int p = 0; p < 16; p++)
        for (int ch = 0; ch < c; ch++) dense_w[(size_t)k * 16 * c + p * c + ch] = torch[((size_t)k * c + ch) * 16 + p];
    size_t bytes = gk_q8_packed_bytes(GK_Q8_DENSE, nz, 16 * c);
    int8_t *p1 = malloc(bytes), *p2 = malloc(bytes);
    gk_q8_pack_projection_torch(nz, c, torch, p1);
    gk_q8_pack_dense(nz, 16 * c, dense_w, p2);
    char what[120];
    snprintf(what, sizeof what, "%s projection packing = dense packing of the converted matrix", name);
    check(!memcmp(p1, p2, bytes), what);
    free(torch); free(dense_w); free(p1); free(p2);
  }
  // A chain in one call (dense -> deconv -> deconv), as a generator runs: equal to the layers
  // run one by one through the reference.
  {
    int n = 2, nz = 10, c0 = 24, c1 = 12, c2 = 3;
    int8_t *w0 = q8rand((size_t)nz * 16 * c0), *w1 = q8rand(16 * (size_t)c0 * c1), *w2 = q8rand(16 * (size_t)c1 * c2);
    int8_t *p0 = malloc(gk_q8_packed_bytes(GK_Q8_DENSE, nz, 16 * c0));
    int8_t *p1 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, c0, c1)), *p2 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, c1, c2));
    gk_q8_pack_dense(nz, 16 * c0, w0, p0);
    gk_q8_pack_deconv4s2_torch(c0, c1, w1, p1);
    gk_q8_pack_deconv4s2_torch(c1, c2, w2, p2);
    float *z = frand((size_t)n * nz), *m0 = malloc(16 * c0 * 4), *b0 = frand(16 * c0), *m1 = malloc(c1 * 4), *b1 = frand(c1);
    float *m2 = malloc(c2 * 4), *b2 = frand(c2);
    for (int i = 0; i < 16 * c0; i++) m0[i] = 0.05f;
    for (int i = 0; i < c1; i++) m1[i] = 0.02f;
    for (int i = 0; i < c2; i++) m2[i] = 1e-4f;
    size_t s0 = (size_t)n * 16 * c0, s1 = (size_t)n * 64 * c1, s2 = (size_t)n * 256 * c2;
    uint8_t *a0 = calloc(s0, 1), *a1 = calloc(s1, 1), *r0 = calloc(s0, 1), *r1 = calloc(s1, 1);
    float *y = calloc(s2, 4), *yr = calloc(s2, 4);
    gk_q8_layer L[3] = {
        {GK_Q8_DENSE, n, 1, 1, nz, 16 * c0, NULL, z, 40.0f, 1, p0, m0, b0, GK_Q8_OUT_U8, a0, NULL, NULL},
        {GK_Q8_DECONV4S2, n, 4, 4, c0, c1, a0, NULL, 0, 0, p1, m1, b1, GK_Q8_OUT_U8, a1, NULL, NULL},
        {GK_Q8_DECONV4S2, n, 8, 8, c1, c2, a1, NULL, 0, 0, p2, m2, b2, GK_Q8_OUT_F32_TANH, NULL, y, NULL}};
    gk_q8_layer R[3] = {L[0], L[1], L[2]};
    R[0].y_u8 = r0; R[1].x_u8 = r0; R[1].y_u8 = r1; R[2].x_u8 = r1; R[2].y_f32 = yr;
    int8_t *w0_dense = malloc((size_t)nz * 16 * c0);
    memcpy(w0_dense, w0, (size_t)nz * 16 * c0);
    gk_q8_layer_ref(&R[0], w0_dense); gk_q8_layer_ref(&R[1], w1); gk_q8_layer_ref(&R[2], w2);
    void *ws = workspace(gk_q8_workspace_bytes(L, 3, 2));
    gk_q8_run(L, 3, ws, 2);
    char what[120];
    snprintf(what, sizeof what, "%s three-layer chain, 2 threads: bitwise equal to the reference", name);
    int spread = 0;
    for (size_t i = 1; i < s1; i++) spread |= r1[i] != r1[0];
    check(spread && !memcmp(a0, r0, s0) && !memcmp(a1, r1, s1) && !memcmp(y, yr, s2 * 4), what);
    free(ws); free(w0); free(w1); free(w2); free(p0); free(p1); free(p2); free(z); free(m0); free(b0);
    free(m1); free(b1); free(m2); free(b2); free(a0); free(a1); free(r0); free(r1); free(y); free(yr); free(w0_dense);
  }
}

// The exact int8 Winograd F(2x2, 2x2) layer: bitwise the reference (and so the direct kernel) over
// borders, odd channel counts, every input and output mode, alone and inside a chain; refused
// where the variant has no int16 x int16 product.
static void test_q8_winograd(int variant) {
  const gk_q8_variant *v = gk_q8_variant_at(variant);
  char what[200];
  snprintf(what, sizeof what, "%s winograd supported iff the variant multiplies int16 x int16", v->name);
  check(gk_q8_winograd_supported(4, 4, 64) == (v->ukernel_w16 != NULL) && !gk_q8_winograd_supported(3, 4, 64) &&
            !gk_q8_winograd_supported(4, 4, 4096),
        what);
  if (!v->ukernel_w16) return;
  static const int shapes[][5] = {{1, 2, 2, 1, 1}, {2, 4, 6, 7, 3}, {1, 4, 4, 8, 16}, {3, 2, 6, 17, 21},
                                  {2, 4, 4, 64, 40}, {1, 8, 8, 33, 5}, {1, 4, 4, 128, 64}, {2, 6, 2, 20, 17}};
  for (int s = 0; s < 8; s++) {
    int n = shapes[s][0], h = shapes[s][1], w = shapes[s][2], ci = shapes[s][3], co = shapes[s][4];
    size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * 4 * h * w * co;
    int8_t *wt = q8rand(16 * (size_t)ci * co);
    // Weights at the ends of the range too: the transforms reach +-4 * 127.
    for (int c = 0; c < ci && c < 3; c++)
      for (size_t k = 0; k < 16 * (size_t)co; k++) wt[(size_t)c * 16 * co + k] = (c & 1) ? -127 : 127;
    int8_t *packed = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2_WINOGRAD2, ci, co));
    gk_q8_pack_deconv4s2_winograd2_torch(ci, co, wt, packed);
    uint8_t *xu = u8rand(xs);
    for (size_t i = 0; i < xs && i < 2 * (size_t)ci; i++) xu[i] = (i & 1) ? 0 : 255;
    float *xf = frand(xs), *mult = malloc(co * 4), *bias = frand(co);
    for (int c = 0; c < co; c++) { mult[c] = (0.6f + 0.1f * (c % 5)) * 255.0f / (sqrtf(4.0f * ci) * 9000.0f); bias[c] *= 40.0f; }
    for (int out = 0; out < 3; out++) {
      gk_q8_layer l = {GK_Q8_DECONV4S2_WINOGRAD2, n, h, w, ci, co, xu, NULL, 0, 0, packed, mult, bias, out, NULL, NULL, NULL};
      q8_case(v->name, l, wt, ys);
      l.x_u8 = NULL; l.x_f32 = xf; l.x_inv_scale = 300.0f;
      l.x_signed = out == 1;  // signed codes in [-127, 127] as well
      q8_case(v->name, l, wt, ys);
    }
    free(wt); free(packed); free(xu); free(xf); free(mult); free(bias);
  }
  // Between two direct layers in one call (its barriers and shared workspace inside the region).
  {
    int n = 2, c0 = 24, c1 = 20, c2 = 12, c3 = 3;
    int8_t *w1 = q8rand(16 * (size_t)c0 * c1), *w2 = q8rand(16 * (size_t)c1 * c2), *w3 = q8rand(16 * (size_t)c2 * c3);
    int8_t *p1 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, c0, c1));
    int8_t *p2 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2_WINOGRAD2, c1, c2));
    int8_t *p3 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, c2, c3));
    gk_q8_pack_deconv4s2_torch(c0, c1, w1, p1);
    gk_q8_pack_deconv4s2_winograd2_torch(c1, c2, w2, p2);
    gk_q8_pack_deconv4s2_torch(c2, c3, w3, p3);
    uint8_t *x = u8rand((size_t)n * 4 * 4 * c0);
    float *m1 = malloc(c1 * 4), *b1 = frand(c1), *m2 = malloc(c2 * 4), *b2 = frand(c2), *m3 = malloc(c3 * 4), *b3 = frand(c3);
    for (int i = 0; i < c1; i++) m1[i] = 0.004f;
    for (int i = 0; i < c2; i++) m2[i] = 0.003f;
    for (int i = 0; i < c3; i++) m3[i] = 1e-4f;
    size_t s1 = (size_t)n * 64 * c1, s2 = (size_t)n * 256 * c2, s3 = (size_t)n * 1024 * c3;
    uint8_t *a1 = calloc(s1, 1), *a2 = calloc(s2, 1), *r1 = calloc(s1, 1), *r2 = calloc(s2, 1);
    float *y = calloc(s3, 4), *yr = calloc(s3, 4);
    gk_q8_layer L[3] = {
        {GK_Q8_DECONV4S2, n, 4, 4, c0, c1, x, NULL, 0, 0, p1, m1, b1, GK_Q8_OUT_U8, a1, NULL, NULL},
        {GK_Q8_DECONV4S2_WINOGRAD2, n, 8, 8, c1, c2, a1, NULL, 0, 0, p2, m2, b2, GK_Q8_OUT_U8, a2, NULL, NULL},
        {GK_Q8_DECONV4S2, n, 16, 16, c2, c3, a2, NULL, 0, 0, p3, m3, b3, GK_Q8_OUT_F32_TANH, NULL, y, NULL}};
    gk_q8_layer R[3] = {L[0], L[1], L[2]};
    R[0].y_u8 = r1; R[1].x_u8 = r1; R[1].y_u8 = r2; R[2].x_u8 = r2; R[2].y_f32 = yr;
    gk_q8_layer_ref(&R[0], w1); gk_q8_layer_ref(&R[1], w2); gk_q8_layer_ref(&R[2], w3);
    for (int threads = 1; threads <= 2; threads++) {
      memset(a2, 0, s2);
      void *ws = workspace(gk_q8_workspace_bytes(L, 3, threads));
      gk_q8_run(L, 3, ws, threads);
      free(ws);
      int spread = 0;
      for (size_t i = 1; i < s2; i++) spread |= r2[i] != r2[0];
      snprintf(what, sizeof what, "%s chain with a winograd layer, %d thread(s): bitwise equal to the reference", v->name,
               threads);
      check(spread && !memcmp(a1, r1, s1) && !memcmp(a2, r2, s2) && !memcmp(y, yr, s3 * 4), what);
    }
    free(w1); free(w2); free(w3); free(p1); free(p2); free(p3); free(x); free(m1); free(b1); free(m2); free(b2);
    free(m3); free(b3); free(a1); free(a2); free(r1); free(r2); free(y); free(yr);
  }
}

// Streaming passes: every variant against the scalar references, sizes around the vector width.
static void test_elementwise(int variant) {
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
    test_winograd(v);
    printf("  %s (%dx%d): %d checks\n", g->name, g->mr, g->nr, passed + failed - before);
  }
  gk_gemm_force_variant(-1);
  printf("  winograd worst relative max error vs reference: F(2x2,2x2) %.2g, F(4x4,2x2) %.2g (deconvolution, "
         "conv backward-data); conv forward F(2x2,2x2) %.2g, F(4x4,2x2) %.2g; max abs error over all (outputs up to "
         "%.0f) F(2x2,2x2) %.2g, F(4x4,2x2) %.2g\n", winograd_worst[2], winograd_worst[4], winograd_conv_worst[2], winograd_conv_worst[4],
         winograd_ref_max, winograd_abs[2], winograd_abs[4]);
  for (int v = 0; v < gk_narrow_variant_count(); v++) {
    const gk_narrow_variant *g = gk_narrow_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    gk_narrow_force_variant(v);
    int before = passed + failed;
    test_narrow(v);
    printf("  %s: %d checks\n", g->name, passed + failed - before);
  }
  gk_narrow_force_variant(-1);
  for (int v = 0; v < gk_q8_variant_count(); v++) {
    const gk_q8_variant *g = gk_q8_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    gk_q8_force_variant(v);
    int before = passed + failed;
    test_q8(v);
    test_q8_winograd(v);
    printf("  %s (%dx%d): %d checks\n", g->name, g->mr, g->nr, passed + failed - before);
  }
  gk_q8_force_variant(-1);
  for (int v = 0; v < gk_elementwise_variant_count(); v++) {
    const gk_elementwise_variant *g = gk_elementwise_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    int before = passed + failed;
    test_elementwise(v);
    printf("  %s: %d checks\n", g->name, passed + failed - before);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
