// Conditional BatchNorm's per-image scale/shift and backward, and the projection head: streaming
// passes over NHWC activations, one image at a time, channels innermost (the loops vectorize).
#include "../common/gk_internal.h"

void gk_f32_cbn_scale_shift(int n, int c, const int32_t *labels, const float *gain, const float *bias,
                            const float *mean, const float *rstd, float *scale, float *shift) {
  for (int i = 0; i < n; i++) {
    const float *g = gain + (size_t)labels[i] * c, *b = bias + (size_t)labels[i] * c;
    float *sc = scale + (size_t)i * c, *sh = shift + (size_t)i * c;
    for (int j = 0; j < c; j++) { sc[j] = g[j] * rstd[j]; sh[j] = b[j] - mean[j] * sc[j]; }
  }
}

void gk_f32_cbn_backward_sums(int n, int rows_per_image, int c, int classes, const int32_t *labels, const float *x,
                              const float *y, const float *dy, const float *mean, const float *rstd,
                              const float *gain, int act, float slope, float *dgain, float *dbias, int accumulate,
                              double *scratch) {
  double *sg = scratch, *sgx = scratch + (size_t)n * c;  // image i's sums of G and G * xhat
  double *a = scratch + 2 * (size_t)n * c, *b = a + c;     // sum_i gain[label_i] S_i, ... T_i
  size_t P = (size_t)rows_per_image;
  enum { BLOCK = 64 };
  float ag[BLOCK], agx[BLOCK];
  // Pass 1: per image, float partial sums over the image's rows in channel blocks.
  for (int i = 0; i < n; i++) {
    for (int j0 = 0; j0 < c; j0 += BLOCK) {
      int jn = c - j0 < BLOCK ? c - j0 : BLOCK;
      for (int l = 0; l < jn; l++) { ag[l] = 0; agx[l] = 0; }
      for (size_t p = 0; p < P; p++) {
        size_t o = ((size_t)i * P + p) * c + j0;
        for (int l = 0; l < jn; l++) {
          float g = gk_act_grad(dy[o + l], y[o + l], act, slope);
          float xhat = (x[o + l] - mean[j0 + l]) * rstd[j0 + l];
          ag[l] += g;
          agx[l] += g * xhat;
        }
      }
      for (int l = 0; l < jn; l++) { sg[(size_t)i * c + j0 + l] = ag[l]; sgx[(size_t)i * c + j0 + l] = agx[l]; }
    }
  }
  // Per-class gradients, and the batch-wide sums through each image's gain, in image order.
  if (!accumulate) {
    memset(dgain, 0, (size_t)classes * c * sizeof(float));
    memset(dbias, 0, (size_t)classes * c * sizeof(float));
  }
  for (int j = 0; j < c; j++) { a[j] = 0; b[j] = 0; }
  for (int i = 0; i < n; i++) {
    const float *gi = gain + (size_t)labels[i] * c;
    float *dg = dgain + (size_t)labels[i] * c, *db = dbias + (size_t)labels[i] * c;
    for (int j = 0; j < c; j++) {
      dg[j] += (float)sgx[(size_t)i * c + j];
      db[j] += (float)sg[(size_t)i * c + j];
      a[j] += gi[j] * sg[(size_t)i * c + j];
      b[j] += gi[j] * sgx[(size_t)i * c + j];
    }
  }
}

void gk_f32_cbn_backward_dx(int n, int rows_per_image, size_t total_rows, int c, const int32_t *labels,
                            const float *x, const float *y, const float *dy, const float *mean, const float *rstd,
                            const float *gain, int act, float slope, float *dx, const double *scratch) {
  const double *a = scratch + 2 * (size_t)n * c, *b = a + c;
  size_t P = (size_t)rows_per_image;
  // Pass 2: dx = rstd / M * (M * G * gain - a - xhat * b).
  float mf = (float)total_rows;
  for (int i = 0; i < n; i++) {
    const float *gi = gain + (size_t)labels[i] * c;
    for (size_t p = 0; p < P; p++) {
      size_t o = ((size_t)i * P + p) * c;
      for (int j = 0; j < c; j++) {
        float g = gk_act_grad(dy[o + j], y[o + j], act, slope);
        float xhat = (x[o + j] - mean[j]) * rstd[j];
        dx[o + j] = rstd[j] / mf * (mf * g * gi[j] - (float)a[j] - xhat * (float)b[j]);
      }
    }
  }
}

void gk_f32_cbn_backward(int n, int rows_per_image, int c, int classes, const int32_t *labels, const float *x,
                         const float *y, const float *dy, const float *mean, const float *rstd,
                         const float *gain, int act, float slope, float *dx, float *dgain, float *dbias,
                         int accumulate, double *scratch) {
  gk_f32_cbn_backward_sums(n, rows_per_image, c, classes, labels, x, y, dy, mean, rstd, gain, act, slope, dgain, dbias,
                           accumulate, scratch);
  gk_f32_cbn_backward_dx(n, rows_per_image, (size_t)n * rows_per_image, c, labels, x, y, dy, mean, rstd, gain, act,
                         slope, dx, scratch);
}

// acc[l] = sum over an image's positions of h[p, j0 + l], for the (at most 64) channels from j0;
// returns how many. Float sums in position order: the projection's one reduction.
static int sum_positions(int positions, int c, const float *h_img, int j0, float acc[64]) {
  int jn = c - j0 < 64 ? c - j0 : 64;
  for (int l = 0; l < jn; l++) acc[l] = 0;
  for (int p = 0; p < positions; p++) {
    const float *hp = h_img + (size_t)p * c + j0;
    for (int l = 0; l < jn; l++) acc[l] += hp[l];
  }
  return jn;
}

void gk_f32_projection_forward(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                               const float *embed, float *logit) {
  float acc[64];
  for (int i = 0; i < n; i++) {
    const float *e = embed + (size_t)labels[i] * c;
    double total = 0;
    for (int j0 = 0; j0 < c; j0 += 64) {
      int jn = sum_positions(rows_per_image, c, h + (size_t)i * rows_per_image * c, j0, acc);
      for (int l = 0; l < jn; l++) total += (double)acc[l] * e[j0 + l];
    }
    logit[i] += (float)total;
  }
}

void gk_f32_projection_backward(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                                const float *embed, const float *dlogit, float *dh, int accumulate_dh,
                                float *dembed) {
  float acc[64];
  for (int i = 0; i < n; i++) {
    const float *e = embed + (size_t)labels[i] * c;
    float *de = dembed + (size_t)labels[i] * c;
    float g = dlogit[i];
    for (int p = 0; p < rows_per_image; p++) {
      float *d = dh + ((size_t)i * rows_per_image + p) * c;
      if (accumulate_dh) for (int j = 0; j < c; j++) d[j] += g * e[j];
      else for (int j = 0; j < c; j++) d[j] = g * e[j];
    }
    for (int j0 = 0; j0 < c; j0 += 64) {
      int jn = sum_positions(rows_per_image, c, h + (size_t)i * rows_per_image * c, j0, acc);
      for (int l = 0; l < jn; l++) de[j0 + l] += g * acc[l];
    }
  }
}

void gk_f32_cbn_apply(int n, int rows_per_image, int c, const float *x, const float *scale, const float *shift,
                      const int32_t *rows, int act, float slope, float *y) {
  for (int i = 0; i < n; i++) {
    size_t r = rows ? (size_t)rows[i] : (size_t)i, off = (size_t)i * rows_per_image * c;
    gk_f32_bn_apply((size_t)rows_per_image, (size_t)c, x + off, scale + r * c, shift + r * c, act, slope, y + off);
  }
}
