// SAGAN kernels against their references: row softmax (every variant), self-attention forward
// and backward (GEMMs + softmax) with thread-count determinism, spectral norm in each layout.
#include "driver.h"

// Every softmax variant against the reference, widths around the vector lengths, inputs scaled
// up to 60 so the max subtraction matters.
void test_softmax(int variant) {
  const gk_softmax_variant *v = gk_softmax_variant_at(variant);
  static const size_t shapes[][2] = {{1, 1}, {3, 5}, {2, 8}, {4, 9}, {7, 16}, {5, 17}, {3, 256}, {2, 1024}};
  for (int s = 0; s < 8; s++) {
    size_t rows = shapes[s][0], n = shapes[s][1], cnt = rows * n;
    float *x = frand(cnt), *dy = frand(cnt), *y1 = calloc(cnt, 4), *y2 = calloc(cnt, 4);
    for (size_t i = 0; i < cnt; i++) x[i] *= (float)(1 + (i % 3) * 30);
    v->rows(rows, n, x, y1);
    gk_f32_softmax_rows_ref(rows, n, x, y2);
    char what[160];
    snprintf(what, sizeof what, "%s softmax (%zu x %zu)", v->name, rows, n);
    check(rel_err(y1, y2, cnt) <= 4 * tol(n), what);
    float worst_sum = 0;
    for (size_t r = 0; r < rows; r++) {
      float sum = 0;
      for (size_t j = 0; j < n; j++) sum += y1[r * n + j];
      if (fabsf(sum - 1) > worst_sum) worst_sum = fabsf(sum - 1);
    }
    snprintf(what, sizeof what, "%s softmax rows sum to 1 (%zu x %zu)", v->name, rows, n);
    check(worst_sum <= 4 * tol(n), what);
    v->backward_rows(rows, n, y2, dy, y1);
    float *dx2 = calloc(cnt, 4);
    gk_f32_softmax_backward_rows_ref(rows, n, y2, dy, dx2);
    snprintf(what, sizeof what, "%s softmax backward (%zu x %zu)", v->name, rows, n);
    check(rel_err(y1, dx2, cnt) <= 4 * tol(n), what);
    free(x); free(dy); free(y1); free(y2); free(dx2);
  }
}

// gk_f32_attention_forward/backward against the direct loops; 1, 2 and 3 threads bit for bit.
// Shapes (n, positions, C/8, C): degenerate ones, odd ones, and SAGAN's 8x8 and 16x16 blocks.
void test_attention(void) {
  static const int shapes[][4] = {{1, 1, 1, 1}, {2, 3, 1, 8}, {1, 17, 3, 5}, {1, 16, 2, 16}, {2, 64, 4, 32},
                                  {1, 256, 16, 128}};
  for (int s = 0; s < 6; s++) {
    int n = shapes[s][0], P = shapes[s][1], cq = shapes[s][2], cv = shapes[s][3];
    size_t nq = (size_t)n * P * cq, nv = (size_t)n * P * cv, na = (size_t)n * P * P;
    float *q = frand(nq), *k = frand(nq), *v = frand(nv), *g = frand(nv);
    for (size_t i = 0; i < nq; i++) { q[i] *= 2; k[i] *= 2; }
    float *a_ref = calloc(na, 4), *o_ref = calloc(nv, 4), *ds_ref = calloc(na, 4);
    float *dq_ref = calloc(nq, 4), *dk_ref = calloc(nq, 4), *dv_ref = calloc(nv, 4);
    gk_f32_attention_forward_ref(n, P, cq, cv, q, k, v, a_ref, o_ref);
    gk_f32_attention_backward_ref(n, P, cq, cv, q, k, v, a_ref, g, ds_ref, dq_ref, dk_ref, dv_ref);
    float *out[3][6];
    for (int t = 0; t < 3; t++) {
      float *a = calloc(na, 4), *o = calloc(nv, 4), *ds = calloc(na, 4);
      float *dq = calloc(nq, 4), *dk = calloc(nq, 4), *dv = calloc(nv, 4);
      void *ws = workspace(gk_f32_attention_workspace_bytes(n, P, cq, cv, t + 1));
      gk_f32_attention_forward(n, P, cq, cv, q, k, v, a, o, ws, t + 1);
      gk_f32_attention_backward(n, P, cq, cv, q, k, v, a, g, ds, dq, dk, dv, ws, t + 1);
      free(ws);
      out[t][0] = a; out[t][1] = o; out[t][2] = ds; out[t][3] = dq; out[t][4] = dk; out[t][5] = dv;
    }
    const float *want[6] = {a_ref, o_ref, ds_ref, dq_ref, dk_ref, dv_ref};
    const size_t count[6] = {na, nv, na, nq, nq, nv};
    const char *names[6] = {"attention map", "output", "dS", "dQ", "dK", "dV"};
    size_t depth = (size_t)(P > cv ? P : cv) * (size_t)(cq > 1 ? cq : 1);
    for (int i = 0; i < 6; i++) {
      char what[160];
      snprintf(what, sizeof what, "attention %s (n %d, %d positions, cq %d, cv %d)", names[i], n, P, cq, cv);
      check(rel_err(out[0][i], want[i], count[i]) <= 8 * tol(depth), what);
      snprintf(what, sizeof what, "attention %s, 2 and 3 threads bitwise (n %d, %d positions)", names[i], n, P);
      check(!memcmp(out[0][i], out[1][i], count[i] * 4) && !memcmp(out[0][i], out[2][i], count[i] * 4), what);
    }
    for (int t = 0; t < 3; t++) for (int i = 0; i < 6; i++) free(out[t][i]);
    free(q); free(k); free(v); free(g); free(a_ref); free(o_ref); free(ds_ref); free(dq_ref); free(dk_ref);
    free(dv_ref);
  }
}

// Spectral norm in the three layouts (columns contiguous as in KKIO weights, rows contiguous as
// in PyTorch's view, and strided: the reference path) against the reference; the power
// iteration converging to the largest singular value of a known matrix; the gradient against
// central differences of L(W) = sum G * W / (u^T W v) with u, v fixed.
void test_spectral_norm(void) {
  static const int shapes[][2] = {{1, 1}, {3, 5}, {8, 8}, {16, 9}, {64, 48}, {256, 2048}};
  for (int s = 0; s < 6; s++) {
    int rows = shapes[s][0], cols = shapes[s][1];
    size_t cnt = (size_t)rows * cols;
    for (int layout = 0; layout < 3; layout++) {
      size_t rs = layout == 0 ? 1 : layout == 1 ? (size_t)cols : 2;
      size_t cs = layout == 0 ? (size_t)rows : layout == 1 ? 1 : (size_t)rows * 2;
      size_t span = layout == 2 ? 2 * cnt : cnt;
      float *w = frand(span), *u1 = frand(rows), *v1 = frand(cols), *u2 = malloc(rows * 4), *v2 = malloc(cols * 4);
      memcpy(u2, u1, rows * 4); memcpy(v2, v1, cols * 4);
      float *wv = malloc(rows * 4), *sn1 = calloc(span, 4), *sn2 = calloc(span, 4);
      float s1 = gk_f32_spectral_norm(rows, cols, w, rs, cs, u1, v1, 1, 1e-12f, wv, sn1);
      float s2 = gk_f32_spectral_norm_ref(rows, cols, w, rs, cs, u2, v2, 1, 1e-12f, wv, sn2);
      char what[160];
      snprintf(what, sizeof what, "spectral norm sigma, u, v, W/sigma (%d x %d, layout %d)", rows, cols, layout);
      float t = 4 * tol((size_t)(rows > cols ? rows : cols));
      check(fabsf(s1 - s2) <= t * fabsf(s2) && rel_err(u1, u2, rows) <= t && rel_err(v1, v2, cols) <= t &&
            rel_err(sn1, sn2, span) <= t, what);
      float e1 = gk_f32_spectral_norm(rows, cols, w, rs, cs, u1, v1, 0, 1e-12f, wv, NULL);
      snprintf(what, sizeof what, "spectral norm without power iteration keeps u, v (%d x %d)", rows, cols);
      check(fabsf(e1 - s1) <= t * fabsf(s1) && !memcmp(u1, u1, 4), what);
      float *g = frand(span), *d1 = frand(span), *d2 = malloc(span * 4);
      memcpy(d2, d1, span * 4);
      gk_f32_spectral_norm_backward(rows, cols, w, rs, cs, u2, v2, s2, g, d1, 1);
      gk_f32_spectral_norm_backward_ref(rows, cols, w, rs, cs, u2, v2, s2, g, d2, 1);
      snprintf(what, sizeof what, "spectral norm backward, accumulating (%d x %d, layout %d)", rows, cols, layout);
      check(rel_err(d1, d2, span) <= t, what);
      free(w); free(u1); free(v1); free(u2); free(v2); free(wv); free(sn1); free(sn2); free(g); free(d1); free(d2);
    }
  }
  // diag(3, 2, 1) padded to 3 x 4: sigma -> 3 after a few iterations from a generic u.
  float w[12] = {3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0}, u[3] = {0.3f, 0.5f, 0.7f}, v[4], wv[3];
  float sigma = 0;
  for (int it = 0; it < 60; it++) sigma = gk_f32_spectral_norm(3, 4, w, 4, 1, u, v, 1, 1e-12f, wv, NULL);
  check(fabsf(sigma - 3) < 1e-5f, "spectral norm converges to the largest singular value (diag 3, 2, 1)");
  // Gradient against central differences in double of L(W) = sum G * W / (u^T W v).
  {
    int rows = 3, cols = 4;
    float *wm = frand(12), *uu = frand(3), *vv = frand(4), *g = frand(12), dw[12];
    for (int i = 0; i < 12; i++) wm[i] += 1.5f;
    float sg = 0;
    for (int o = 0; o < rows; o++) for (int r = 0; r < cols; r++) sg += uu[o] * wm[o * cols + r] * vv[r];
    gk_f32_spectral_norm_backward(rows, cols, wm, cols, 1, uu, vv, sg, g, dw, 0);
    float worst = 0;
    for (int i = 0; i < 12; i++) {
      double lp = 0, lm = 0, h = 1e-3;
      for (int sign = -1; sign <= 1; sign += 2) {
        double ww[12], sig = 0, l = 0;
        for (int j = 0; j < 12; j++) ww[j] = wm[j] + (j == i ? sign * h : 0);
        for (int o = 0; o < rows; o++) for (int r = 0; r < cols; r++) sig += uu[o] * ww[o * cols + r] * vv[r];
        for (int j = 0; j < 12; j++) l += g[j] * ww[j] / sig;
        if (sign < 0) lm = l; else lp = l;
      }
      float fd = (float)((lp - lm) / (2 * h));
      float e = fabsf(fd - dw[i]) / (fabsf(fd) + 1e-3f);
      if (e > worst) worst = e;
    }
    check(worst < 1e-2f, "spectral norm backward matches central differences");
    free(wm); free(uu); free(vv); free(g);
  }
}

// Conditional BatchNorm against its definition, and with one class against plain BatchNorm's
// backward (the same arithmetic when gain = gamma); the projection head against direct loops.
void test_conditional(void) {
  static const int shapes[][4] = {{1, 1, 1, 1}, {3, 4, 5, 2}, {4, 16, 17, 3}, {8, 64, 64, 10}, {2, 16, 130, 4}};
  const int acts[] = {GK_ACT_NONE, GK_ACT_RELU, GK_ACT_LRELU};
  for (int s = 0; s < 5; s++) {
    int n = shapes[s][0], P = shapes[s][1], c = shapes[s][2], classes = shapes[s][3];
    size_t cnt = (size_t)n * P * c, tab = (size_t)classes * c;
    int32_t *labels = malloc(n * sizeof(int32_t));
    for (int i = 0; i < n; i++) labels[i] = (i * 7 + 3) % classes;
    float *x = frand(cnt), *dy = frand(cnt), *gain = frand(tab), *bias = frand(tab), *mean = frand(c), *rstd = frand(c);
    for (int j = 0; j < c; j++) rstd[j] = 0.5f + fabsf(rstd[j]);
    float *scale = malloc((size_t)n * c * 4), *shift = malloc((size_t)n * c * 4), *y = malloc(cnt * 4);
    for (int a = 0; a < 3; a++) {
      gk_f32_cbn_scale_shift(n, c, labels, gain, bias, mean, rstd, scale, shift);
      for (int i = 0; i < n; i++)
        gk_f32_bn_apply((size_t)P, (size_t)c, x + (size_t)i * P * c, scale + (size_t)i * c, shift + (size_t)i * c,
                        acts[a], 0.1f, y + (size_t)i * P * c);
      float worst = 0;
      for (size_t r = 0; r < (size_t)n * P; r++)
        for (int j = 0; j < c; j++) {
          int k = labels[r / P];
          float v = (x[r * c + j] - mean[j]) * rstd[j] * gain[(size_t)k * c + j] + bias[(size_t)k * c + j];
          if (acts[a] == GK_ACT_RELU) v = v > 0 ? v : 0;
          if (acts[a] == GK_ACT_LRELU) v = v > 0 ? v : v * 0.1f;
          float e = fabsf(v - y[r * c + j]);
          if (e > worst) worst = e;
        }
      char what[160];
      snprintf(what, sizeof what, "cbn apply act %d (n %d, %d rows, c %d, %d classes)", acts[a], n, P, c, classes);
      check(worst <= 1e-5f, what);
      float *dx1 = malloc(cnt * 4), *dx2 = malloc(cnt * 4), *dg1 = frand(tab), *dg2 = malloc(tab * 4);
      float *db1 = frand(tab), *db2 = malloc(tab * 4);
      memcpy(dg2, dg1, tab * 4); memcpy(db2, db1, tab * 4);
      double *scratch = malloc((2 * (size_t)n + 2) * c * sizeof(double));
      int acc = a == 1;
      gk_f32_cbn_backward(n, P, c, classes, labels, x, y, dy, mean, rstd, gain, acts[a], 0.1f, dx1, dg1, db1, acc, scratch);
      gk_f32_cbn_backward_ref(n, P, c, classes, labels, x, y, dy, mean, rstd, gain, acts[a], 0.1f, dx2, dg2, db2, acc);
      snprintf(what, sizeof what, "cbn backward act %d%s (n %d, %d rows, c %d, %d classes)", acts[a],
               acc ? " accumulating" : "", n, P, c, classes);
      float t = 8 * tol((size_t)n * P);
      check(rel_err(dx1, dx2, cnt) <= t && rel_err(dg1, dg2, tab) <= t && rel_err(db1, db2, tab) <= t, what);
      if (classes == 1 || s == 3) {  // one class: plain BatchNorm with gamma = gain[0] (labels all 0)
        int32_t *zeros = calloc(n, sizeof(int32_t));
        float *dx3 = malloc(cnt * 4), *dg3 = calloc(c, 4), *db3 = calloc(c, 4), *dg4 = calloc(tab, 4), *db4 = calloc(tab, 4);
        gk_f32_cbn_backward(n, P, c, 1, zeros, x, y, dy, mean, rstd, gain, acts[a], 0.1f, dx1, dg4, db4, 0, scratch);
        gk_f32_bn_backward_ref((size_t)n * P, (size_t)c, x, y, dy, mean, rstd, gain, acts[a], 0.1f, dx3, dg3, db3, 0);
        snprintf(what, sizeof what, "cbn with one class equals BatchNorm backward (n %d, %d rows, c %d)", n, P, c);
        check(rel_err(dx1, dx3, cnt) <= t && rel_err(dg4, dg3, c) <= t && rel_err(db4, db3, c) <= t, what);
        free(zeros); free(dx3); free(dg3); free(db3); free(dg4); free(db4);
      }
      free(dx1); free(dx2); free(dg1); free(dg2); free(db1); free(db2); free(scratch);
    }
    float *embed = frand(tab), *l1 = frand(n), *l2 = malloc(n * 4), *dl = frand(n);
    memcpy(l2, l1, n * 4);
    gk_f32_projection_forward(n, P, c, labels, x, embed, l1);
    gk_f32_projection_forward_ref(n, P, c, labels, x, embed, l2);
    char what[160];
    snprintf(what, sizeof what, "projection forward (n %d, %d positions, c %d)", n, P, c);
    check(rel_err(l1, l2, n) <= 4 * tol((size_t)P * c), what);
    float *dh1 = frand(cnt), *dh2 = malloc(cnt * 4), *de1 = frand(tab), *de2 = malloc(tab * 4);
    memcpy(dh2, dh1, cnt * 4); memcpy(de2, de1, tab * 4);
    gk_f32_projection_backward(n, P, c, labels, x, embed, dl, dh1, 1, de1);
    gk_f32_projection_backward_ref(n, P, c, labels, x, embed, dl, dh2, 1, de2);
    snprintf(what, sizeof what, "projection backward (n %d, %d positions, c %d)", n, P, c);
    check(rel_err(dh1, dh2, cnt) <= 1e-6f && rel_err(de1, de2, tab) <= 4 * tol((size_t)P), what);
    free(embed); free(l1); free(l2); free(dl); free(dh1); free(dh2); free(de1); free(de2);
    free(labels); free(x); free(dy); free(gain); free(bias); free(mean); free(rstd); free(scale); free(shift); free(y);
  }
}

// The SAGAN's small passes and losses: the attention residual, gamma's and the biases'
// gradients, the hinge and mean losses, and conditional BatchNorm applied per image.
void test_sagan_passes(void) {
  char what[160];
  static const size_t sizes[] = {1, 3, 4, 17, 1000, 65536};
  for (int s = 0; s < 6; s++) {
    size_t n = sizes[s];
    float *x = frand(n), *y = frand(n), *o1 = calloc(n, 4), *o2 = calloc(n, 4);
    gk_f32_scale_add(n, 0.37f, x, y, o1);
    gk_f32_scale_add_ref(n, 0.37f, x, y, o2);
    snprintf(what, sizeof what, "scale_add (%zu) = reference bit for bit", n);
    check(!memcmp(o1, o2, n * 4), what);
    int ok = 1;
    for (size_t i = 0; i < n; i++) { float a = 0.37f * x[i]; ok &= o1[i] == a + y[i]; }
    snprintf(what, sizeof what, "scale_add (%zu): the product rounded, then the sum", n);
    check(ok, what);
    gk_f32_scale_add(n, -2.5f, x, NULL, o1);
    ok = 1;
    for (size_t i = 0; i < n; i++) ok &= o1[i] == -2.5f * x[i];
    snprintf(what, sizeof what, "scale_add (%zu) without y: a scaling", n);
    check(ok, what);
    memcpy(o2, y, n * 4);
    gk_f32_scale_add(n, 0.5f, x, o2, o2);  // in place
    ok = 1;
    for (size_t i = 0; i < n; i++) { float a = 0.5f * x[i]; ok &= o2[i] == a + y[i]; }
    snprintf(what, sizeof what, "scale_add (%zu) in place", n);
    check(ok, what);
    double d1 = gk_f32_dot(n, x, y), d2 = gk_f32_dot_ref(n, x, y);
    snprintf(what, sizeof what, "dot (%zu) against the reference", n);
    check(fabs(d1 - d2) <= 1e-12 * (1 + fabs(d2)) * (double)n, what);
    free(x); free(y); free(o1); free(o2);
  }
  static const size_t mats[][2] = {{1, 1}, {5, 3}, {256, 1}, {300, 257}, {16384, 16}};
  for (int s = 0; s < 5; s++) {
    size_t r = mats[s][0], c = mats[s][1];
    float *x = frand(r * c), *a = frand(c), *b = calloc(c, 4);
    memcpy(b, a, c * 4);
    gk_f32_column_sums(r, c, x, a, 1);
    gk_f32_column_sums_ref(r, c, x, b, 1);
    snprintf(what, sizeof what, "column_sums (%zu x %zu, accumulate) = reference bit for bit", r, c);
    check(!memcmp(a, b, c * 4), what);
    gk_f32_column_sums(r, c, x, a, 0);
    double worst = 0;
    for (size_t j = 0; j < c; j++) {
      double sum = 0;
      for (size_t i = 0; i < r; i++) sum += x[i * c + j];
      worst = fmax(worst, fabs(a[j] - sum));
    }
    snprintf(what, sizeof what, "column_sums (%zu x %zu) = the sums", r, c);
    check(worst <= 1e-6 * (double)r, what);
    free(x); free(a); free(b);
  }
  // Hinge: relu(1 - d) for reals, relu(1 + d) for fakes; relu's gradient is 0 at the hinge.
  float d[6] = {-2.0f, -1.0f, 0.0f, 0.5f, 1.0f, 3.0f}, g[6];
  double lr = gk_f32_hinge_logits(6, d, 1.0f, g, 1.0f), lf;
  check(fabs(lr - (3.0 + 2.0 + 1.0 + 0.5) / 6) < 1e-12, "hinge loss on reals");
  check(g[0] == -1.0f / 6 && g[3] == -1.0f / 6 && g[4] == 0.0f && g[5] == 0.0f, "hinge gradient on reals");
  lf = gk_f32_hinge_logits(6, d, -1.0f, g, 2.0f);
  check(fabs(lf - (0.0 + 0.0 + 1.0 + 1.5 + 2.0 + 4.0) / 6) < 1e-12, "hinge loss on fakes");
  check(g[0] == 0.0f && g[1] == 0.0f && g[2] == 2.0f / 6 && g[5] == 2.0f / 6, "hinge gradient on fakes (scaled)");
  double m = gk_f32_mean_logits(6, d, g, -1.0f);
  check(fabs(m - 1.5 / 6) < 1e-12 && g[2] == -1.0f / 6, "mean logit and its gradient");
  check(gk_f32_hinge_logits_ref(6, d, 1.0f, NULL, 1.0f) == lr, "hinge = reference");
  // Conditional BatchNorm applied per image: per-image rows and per-class rows, in place.
  int n = 5, P = 6, c = 19, classes = 3;
  int32_t rows[5] = {2, 0, 2, 1, 0};
  size_t cnt = (size_t)n * P * c;
  float *x = frand(cnt), *sc = frand((size_t)n * c), *sh = frand((size_t)n * c), *y1 = calloc(cnt, 4),
        *y2 = calloc(cnt, 4);
  for (int act = 0; act < 3; act++) {
    gk_f32_cbn_apply(n, P, c, x, sc, sh, NULL, act, 0.1f, y1);
    gk_f32_cbn_apply_ref(n, P, c, x, sc, sh, NULL, act, 0.1f, y2);
    snprintf(what, sizeof what, "cbn_apply, a row per image (act %d)", act);
    check(rel_err(y1, y2, cnt) <= 4 * tol(1), what);
    gk_f32_cbn_apply(n, P, c, x, sc, sh, rows, act, 0.1f, y1);
    gk_f32_cbn_apply_ref(n, P, c, x, sc, sh, rows, act, 0.1f, y2);
    int ok = 1;
    for (int i = 0; i < n; i++)
      for (int p = 0; p < P; p++)
        for (int j = 0; j < c; j++) {
          size_t o = ((size_t)i * P + p) * c + j;
          float v = x[o] * sc[rows[i] * c + j] + sh[rows[i] * c + j];
          float want = act == GK_ACT_RELU ? (v > 0 ? v : 0) : (act == GK_ACT_LRELU ? (v > 0 ? v : 0.1f * v) : v);
          ok &= fabsf(y2[o] - want) <= 1e-6f * (1 + fabsf(want));
        }
    snprintf(what, sizeof what, "cbn_apply reference, a class's row per image (act %d)", act);
    check(ok, what);
    snprintf(what, sizeof what, "cbn_apply, a class's row per image (act %d)", act);
    check(rel_err(y1, y2, cnt) <= 4 * tol(1), what);
    memcpy(y1, x, cnt * 4);
    gk_f32_cbn_apply(n, P, c, y1, sc, sh, rows, act, 0.1f, y1);
    snprintf(what, sizeof what, "cbn_apply in place (act %d)", act);
    check(rel_err(y1, y2, cnt) <= 4 * tol(1), what);
  }
  (void)classes;
  free(x); free(sc); free(sh); free(y1); free(y2);
}

// The first backward (q, k, v, dO) -> (dQ, dK, dV) through the references, in one call.
static void first_backward(int n, int P, int cq, int cv, const float *q, const float *k, const float *v,
                           const float *dO, float *a, float *o, float *ds, float *dq, float *dk, float *dv) {
  gk_f32_attention_forward_ref(n, P, cq, cv, q, k, v, a, o);
  gk_f32_attention_backward_ref(n, P, cq, cv, q, k, v, a, dO, ds, dq, dk, dv);
}

// <G, F(inputs)> for adjoints G of (dQ, dK, dV): what the double backward differentiates.
static double contracted(int n, int P, int cq, int cv, const float *q, const float *k, const float *v,
                         const float *dO, const float *gq, const float *gk, const float *gv) {
  size_t nq = (size_t)n * P * cq, nv = (size_t)n * P * cv, na = (size_t)n * P * P;
  float *a = calloc(na, 4), *o = calloc(nv, 4), *ds = calloc(na, 4), *dq = calloc(nq, 4), *dk = calloc(nq, 4),
        *dv = calloc(nv, 4);
  first_backward(n, P, cq, cv, q, k, v, dO, a, o, ds, dq, dk, dv);
  double s = 0;
  for (size_t i = 0; i < nq; i++) s += (double)gq[i] * dq[i] + (double)gk[i] * dk[i];
  for (size_t i = 0; i < nv; i++) s += (double)gv[i] * dv[i];
  free(a); free(o); free(ds); free(dq); free(dk); free(dv);
  return s;
}

// gk_f32_attention_double_backward: against its reference over edge shapes (1, 2 and 3 threads bit
// for bit), and the reference against central differences of the first backward (a numerical
// Hessian-vector product) along random directions of q, k, v and dO.
void test_attention_double_backward(void) {
  static const int shapes[][4] = {{1, 1, 1, 1}, {2, 3, 1, 8}, {1, 17, 3, 5}, {3, 16, 2, 16}, {2, 64, 4, 32},
                                  {1, 256, 8, 64}};
  char what[200];
  for (int s = 0; s < 6; s++) {
    int n = shapes[s][0], P = shapes[s][1], cq = shapes[s][2], cv = shapes[s][3];
    size_t nq = (size_t)n * P * cq, nv = (size_t)n * P * cv, na = (size_t)n * P * P;
    float *q = frand(nq), *k = frand(nq), *v = frand(nv), *dO = frand(nv);
    float *xq = frand(nq), *xk = frand(nq), *xv = frand(nv);
    for (size_t i = 0; i < nq; i++) { q[i] *= 2; k[i] *= 2; }
    float *a = calloc(na, 4), *o = calloc(nv, 4), *ds = calloc(na, 4), *dq = calloc(nq, 4), *dk = calloc(nq, 4),
          *dv = calloc(nv, 4);
    first_backward(n, P, cq, cv, q, k, v, dO, a, o, ds, dq, dk, dv);
    float *rq = calloc(nq, 4), *rk = calloc(nq, 4), *rv = calloc(nv, 4), *ro = calloc(nv, 4);
    double *scratch = malloc((3 * (size_t)P * P + 2 * (size_t)P) * sizeof(double));
    gk_f32_attention_double_backward_ref(n, P, cq, cv, q, k, v, a, dO, ds, xq, xk, xv, rq, rk, rv, ro, scratch);
    float *got[3][4];
    for (int t = 0; t < 3; t++) {
      float *gq = calloc(nq, 4), *gk = calloc(nq, 4), *gv = calloc(nv, 4), *go = calloc(nv, 4);
      void *ws = workspace(gk_f32_attention_double_backward_workspace_bytes(n, P, cq, cv, t + 1));
      gk_f32_attention_double_backward(n, P, cq, cv, q, k, v, a, dO, ds, xq, xk, xv, gq, gk, gv, go, ws, t + 1);
      free(ws);
      got[t][0] = gq; got[t][1] = gk; got[t][2] = gv; got[t][3] = go;
    }
    const float *want[4] = {rq, rk, rv, ro};
    const size_t cnt[4] = {nq, nq, nv, nv};
    const char *names[4] = {"q", "k", "v", "dO"};
    for (int m = 0; m < 4; m++) {
      snprintf(what, sizeof what, "attention double backward (%d,%d,%d,%d): adjoint of %s against the reference", n, P,
               cq, cv, names[m]);
      check(rel_err(got[0][m], want[m], cnt[m]) <= 16 * tol((size_t)P * (cq + cv)), what);
      snprintf(what, sizeof what, "attention double backward (%d,%d,%d,%d): %s bitwise equal for 1, 2, 3 threads", n, P,
               cq, cv, names[m]);
      check(!memcmp(got[0][m], got[1][m], cnt[m] * 4) && !memcmp(got[0][m], got[2][m], cnt[m] * 4), what);
    }
    // Central differences along a random direction of each input (small shapes: float noise).
    if (P <= 17) {
      float *inputs[4] = {q, k, v, dO};
      for (int m = 0; m < 4; m++) {
        float *dir = frand(cnt[m]), *x = inputs[m], *keep = malloc(cnt[m] * 4);
        memcpy(keep, x, cnt[m] * 4);
        double h = 1e-2, analytic = 0;
        for (size_t i = 0; i < cnt[m]; i++) analytic += (double)want[m][i] * dir[i];
        for (size_t i = 0; i < cnt[m]; i++) x[i] = keep[i] + (float)h * dir[i];
        double fp = contracted(n, P, cq, cv, q, k, v, dO, xq, xk, xv);
        for (size_t i = 0; i < cnt[m]; i++) x[i] = keep[i] - (float)h * dir[i];
        double fm = contracted(n, P, cq, cv, q, k, v, dO, xq, xk, xv);
        memcpy(x, keep, cnt[m] * 4);
        double numeric = (fp - fm) / (2 * h);
        snprintf(what, sizeof what, "attention double backward (%d,%d,%d,%d): adjoint of %s = central differences "
                 "(%.6g vs %.6g)", n, P, cq, cv, names[m], analytic, numeric);
        check(fabs(analytic - numeric) <= 2e-3 * (1 + fabs(numeric)), what);
        free(dir); free(keep);
      }
    }
    for (int t = 0; t < 3; t++) for (int m = 0; m < 4; m++) free(got[t][m]);
    free(q); free(k); free(v); free(dO); free(xq); free(xk); free(xv); free(a); free(o); free(ds); free(dq); free(dk);
    free(dv); free(rq); free(rk); free(rv); free(ro); free(scratch);
  }
}
