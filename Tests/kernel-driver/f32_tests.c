// f32 GEMM variants, layer kernels, Winograd and the narrow deconvolution against their references.
#include "driver.h"
#include "../../Kernels/f32-gemm/gemm_internal.h"
#include "gemm_edge_shapes.h"

void test_gemm(int variant) {
  const char *name = gk_gemm_variant_at(variant)->name;
  for (int shape = 0; shape < gemm_edge_shape_count(); shape++) {
    gemm_edge_shape es = gemm_edge_shape_at(shape);
    size_t m = es.m, n = es.n, k = es.k;
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

void test_threads_and_packing(int variant) {
  const char *name = gk_gemm_variant_at(variant)->name;
  // The weight gradients' A packer: several panels at once = one panel at a time, bitwise, for
  // windows with borders, channel counts that straddle panels and taps, k blocks that start
  // mid-image, m short of the window's rows, and zero panels past them.
  {
    int mr = gk_gemm_variant_at(variant)->mr, ok = 1;
    static const int wins[][4] = {{3, 8, 8, 2}, {5, 4, 6, 1}, {64, 8, 8, 3}, {17, 16, 4, 2}};
    for (int wi = 0; wi < 4 && ok; wi++) {
      int c = wins[wi][0], h = wins[wi][1], w = wins[wi][2], n = wins[wi][3];
      float *x = frand((size_t)n * h * w * c);
      gk_operand A; memset(&A, 0, sizeof A);
      A.kind = GK_OPERAND_WINDOW_T; A.data = x;
      gk_window_s2(&A.win, h, w, c);
      size_t rows = 16 * (size_t)c, k = (size_t)n * (h / 2) * (w / 2);
      size_t ms[2] = {rows, rows - (rows > 7 ? 7 : 0)};
      for (int mi = 0; mi < 2 && ok; mi++)
        for (size_t k0 = 0; k0 < k && ok; k0 += k / 3 + 1) {
          size_t kc = k - k0 < 37 ? k - k0 : 37;
          for (size_t r0 = 0; r0 < ms[mi] + (size_t)mr && ok; r0 += (size_t)mr * 3) {
            size_t np = 5, fl = np * kc * (size_t)mr;
            float *p1 = malloc(fl * 4), *p2 = malloc(fl * 4);
            for (size_t e = 0; e < fl; e++) { p1[e] = NAN; p2[e] = -1.0f; }
            for (size_t q = 0; q < np; q++) gk_pack_a(&A, ms[mi], r0 + q * mr, mr, k0, kc, p1 + q * kc * mr);
            gk_pack_a_panels(&A, ms[mi], r0, np, mr, k0, kc, p2);
            ok = !memcmp(p1, p2, fl * 4);
            free(p1); free(p2);
          }
        }
      free(x);
    }
    char what[160];
    snprintf(what, sizeof what, "%s pack_a: weight-gradient panels packed together = one by one, bitwise", name);
    check(ok, what);
  }
  // The last three split K (weight-gradient shapes: k far above m and n): chunk remainders and
  // partial tiles included.
  static const size_t shapes[][3] = {{300, 70, 600}, {1, 2100, 40}, {97, 3, 1000}, {16, 256, 2048},
                                     {48, 64, 9001}, {7, 17, 4100}, {200, 96, 16384}};
  for (int s = 0; s < 7; s++) {
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
    // Accumulating into C (weight gradients of a second pass) equals adding to it afterwards.
    float *acc = frand(m * n), *keep = malloc(m * n * sizeof(float));
    memcpy(keep, acc, m * n * sizeof(float));
    gk_epilogue ep; memset(&ep, 0, sizeof ep);
    ep.accumulate = 1;
    gk_output CA = gk_output_dense(acc, n);
    gk_f32_gemm(m, n, k, &A, &B, &CA, &ep, ws, 2);
    for (size_t i = 0; i < m * n; i++) keep[i] += c[0][i];
    snprintf(what, sizeof what, "%s gemm %zux%zux%zu%s: accumulate", name, m, n, k,
             gk_gemm_kchunks(m, n, k, NULL, 0) ? " (K split)" : "");
    check(rel_err(acc, keep, m * n) <= 2 * tol(k), what);
    free(acc); free(keep);
    free(ws); free(cp); free(packed); free(a); free(b);
    for (int t = 0; t < 3; t++) free(c[t]);
  }
}

void test_layers(int variant) {
  const char *name = gk_gemm_variant_at(variant)->name;
  // The last: more images than the narrow weight gradient's 64 groups (two images a group).
  static const int dshapes[][5] = {{1, 1, 1, 1, 1}, {1, 1, 1, 5, 3}, {2, 2, 2, 3, 17}, {1, 4, 4, 17, 20},
                                   {3, 5, 3, 8, 3}, {2, 4, 4, 33, 16}, {1, 8, 8, 16, 3}, {70, 4, 2, 16, 3}};
  static const int cshapes[][5] = {{1, 2, 2, 1, 1}, {1, 2, 2, 3, 5}, {2, 4, 4, 3, 17}, {1, 8, 8, 17, 20},
                                   {3, 6, 4, 8, 3}, {2, 8, 8, 16, 33}, {1, 4, 4, 64, 1}};
  char what[200];
  for (int s = 0; s < (int)(sizeof dshapes / sizeof dshapes[0]); s++) {
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
    if (co <= GK_NARROW_MAX_COUT) {  // the narrow weight gradient: bitwise the same at 1 and 3 threads
      float *dw3 = calloc(wsz, 4), *dw4 = calloc(wsz, 4);
      void *ws3 = workspace(gk_f32_deconv4s2_workspace_bytes(n, h, w, ci, co, 3));
      gk_f32_deconv4s2_backward_weights(n, h, w, ci, co, x, dy, dw3, 0, ws3, 1);
      gk_f32_deconv4s2_backward_weights(n, h, w, ci, co, x, dy, dw4, 0, ws3, 3);
      snprintf(what, sizeof what, "%s deconv (%d,%d,%d,%d,%d) narrow backward weights: 1 = 3 threads", name, n, h,
               w, ci, co);
      check(!memcmp(dw3, dw4, wsz * 4), what);
      free(dw3); free(dw4); free(ws3);
    }
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
void test_winograd(int variant) {
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
      size_t pf = gk_f32_deconv4s2_winograd_packed_floats(tile, ci, co);
      float *packed_ref = malloc(pf * 4);
      gk_f32_deconv4s2_winograd_pack_weights(tile, ci, co, wt, 0, packed, 2);
      gk_f32_deconv4s2_winograd_pack_weights_ref(tile, ci, co, wt, 0, packed_ref, scratch);
      snprintf(what, sizeof what, "%s winograd F(%d,2) (%d,%d) fused weight packing = reference, bitwise", name,
               tile, ci, co);
      check(!memcmp(packed, packed_ref, pf * 4), what);
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
      gk_f32_deconv4s2_winograd_pack_weights(tile, ci, co, cw, 1, packed, 3);
      gk_f32_deconv4s2_winograd_pack_weights_ref(tile, ci, co, cw, 1, packed_ref, scratch);
      snprintf(what, sizeof what, "%s winograd F(%d,2) (%d,%d) fused transposed packing = reference, bitwise", name,
               tile, ci, co);
      check(!memcmp(packed, packed_ref, pf * 4), what);
      free(packed_ref);
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
        size_t cpf = gk_f32_conv4s2_winograd_packed_floats(tile, ci, co);
        float *cpacked_ref = malloc(cpf * 4);
        gk_f32_conv4s2_winograd_pack_weights(tile, ci, co, wt, cpacked, 2);
        gk_f32_conv4s2_winograd_pack_weights_ref(tile, ci, co, wt, cpacked_ref, cscratch);
        snprintf(what, sizeof what, "%s winograd F(%d,2) conv (%d,%d) fused weight packing = reference, bitwise",
                 name, tile, ci, co);
        check(!memcmp(cpacked, cpacked_ref, cpf * 4), what);
        free(cpacked_ref);
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

void test_narrow(int variant) {
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

void print_winograd_summary(void) {
  printf("  winograd worst relative max error vs reference: F(2x2,2x2) %.2g, F(4x4,2x2) %.2g (deconvolution, "
         "conv backward-data); conv forward F(2x2,2x2) %.2g, F(4x4,2x2) %.2g; max abs error over all (outputs up to "
         "%.0f) F(2x2,2x2) %.2g, F(4x4,2x2) %.2g\n", winograd_worst[2], winograd_worst[4], winograd_conv_worst[2],
         winograd_conv_worst[4], winograd_ref_max, winograd_abs[2], winograd_abs[4]);
}
