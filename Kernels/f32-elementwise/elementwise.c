// Dispatch of the C streaming passes to the variant chosen at start-up (common/cpu.c).
#include "../common/gk_internal.h"

void gk_f32_bn_apply(size_t rows, size_t c, const float *x, const float *scale, const float *shift,
                     int act, float slope, float *y) {
  gk_config()->elementwise->bn_apply(rows, c, x, scale, shift, act, slope, y);
}

void gk_f32_act_backward(size_t count, const float *y, const float *dy, float slope, float *dx) {
  gk_config()->elementwise->act_backward(count, y, dy, slope, dx);
}

void gk_f32_tanh_backward(size_t count, const float *y, const float *dy, float *dx) {
  gk_config()->elementwise->tanh_backward(count, y, dy, dx);
}

// The SAGAN's small streaming passes (attention's residual, gamma's and the biases' gradients):
// plain loops the compiler vectorizes; per-column and in-order sums, so results do not depend
// on anything but the data.
void gk_f32_scale_add(size_t count, float alpha, const float *x, const float *y, float *out) {
  gk_f32_scale_add_ref(count, alpha, x, y, out);
}

double gk_f32_dot(size_t count, const float *x, const float *y) {
  // Four interleaved double sums, added in a fixed order: the same result on every run.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    s0 += (double)x[i] * y[i];
    s1 += (double)x[i + 1] * y[i + 1];
    s2 += (double)x[i + 2] * y[i + 2];
    s3 += (double)x[i + 3] * y[i + 3];
  }
  for (; i < count; i++) s0 += (double)x[i] * y[i];
  return (s0 + s1) + (s2 + s3);
}

void gk_f32_column_sums(size_t rows, size_t cols, const float *x, float *out, int accumulate) {
  // Rows outer, so the matrix is read once in order; each column's sum still runs in row order.
  enum { BLOCK = 256 };
  double acc[BLOCK];
  for (size_t j0 = 0; j0 < cols; j0 += BLOCK) {
    size_t jn = cols - j0 < BLOCK ? cols - j0 : BLOCK;
    for (size_t l = 0; l < jn; l++) acc[l] = 0.0;
    for (size_t r = 0; r < rows; r++) {
      const float *row = x + r * cols + j0;
      for (size_t l = 0; l < jn; l++) acc[l] += row[l];
    }
    for (size_t l = 0; l < jn; l++) out[j0 + l] = (accumulate ? out[j0 + l] : 0.0f) + (float)acc[l];
  }
}
