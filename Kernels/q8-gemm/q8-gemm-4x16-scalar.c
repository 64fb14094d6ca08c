// Portable int8 variant: the fallback, and the per-element arithmetic every variant matches.
#include "q8_internal.h"

void gk_q8_gemm_ukernel_4x16__scalar(size_t kpairs, const void *const *a_rows_v,
                                     const int8_t *b, int32_t *acc) {
  const int16_t *const *a_rows = (const int16_t *const *)a_rows_v;
  for (int i = 0; i < 4 * 16; i++) acc[i] = 0;
  for (size_t p = 0; p < kpairs; p++, b += 32)
    for (int i = 0; i < 4; i++) {
      int32_t x0 = a_rows[i][2 * p], x1 = a_rows[i][2 * p + 1];
      for (int j = 0; j < 16; j++) acc[i * 16 + j] += x0 * b[2 * j] + x1 * b[2 * j + 1];
    }
}

void gk_q8_gemm_w16_ukernel_4x16__scalar(size_t kpairs, const void *const *a_rows_v,
                                         const int16_t *b, int32_t *acc) {
  const int16_t *const *a_rows = (const int16_t *const *)a_rows_v;
  // Unsigned sums: exact modulo 2^32, as the vector instructions.
  uint32_t sums[4 * 16] = {0};
  for (size_t p = 0; p < kpairs; p++, b += 32)
    for (int i = 0; i < 4; i++) {
      int32_t x0 = a_rows[i][2 * p], x1 = a_rows[i][2 * p + 1];
      for (int j = 0; j < 16; j++) sums[i * 16 + j] += (uint32_t)(x0 * b[2 * j] + x1 * b[2 * j + 1]);
    }
  for (int i = 0; i < 4 * 16; i++) acc[i] = (int32_t)sums[i];
}

void gk_q8_widen_u8__scalar(size_t k, const uint8_t *src, int16_t *dst) {
  for (size_t i = 0; i < k; i++) dst[i] = src[i];
}

void gk_q8_quantize_f32__scalar(size_t k, const float *src, float inv_scale, float lo, float hi,
                                int16_t *dst) {
  for (size_t i = 0; i < k; i++) dst[i] = gk_q8_quantize_one(src[i], inv_scale, lo, hi);
}

void gk_q8_requant_u8__scalar(size_t n, const int32_t *acc, const float *mult, const float *bias,
                              uint8_t *dst) {
  for (size_t j = 0; j < n; j++) dst[j] = gk_q8_requant_one(acc[j], mult[j], bias[j]);
}

// Output pixel (2i + a, 2j + b) sums taps (ty, tx) over input (i + a - 1 + ty, j + b - 1 + tx).
void gk_q8_narrow_row__scalar(int w, int cin16, int cout, int a, const int16_t *row0,
                              const int16_t *row1, const int16_t *packed, int32_t *acc) {
  for (int ox = 0; ox < 2 * w; ox++) {
    int b = ox & 1, j = ox >> 1, phase = a * 2 + b;
    for (int co = 0; co < cout; co++) acc[ox * cout + co] = 0;
    for (int t = 0; t < 4; t++) {
      const int16_t *row = (t >> 1) ? row1 : row0;
      int ix = j + b - 1 + (t & 1);
      if (!row || ix < 0 || ix >= w) continue;
      const int16_t *x = row + (size_t)ix * cin16;
      for (int co = 0; co < cout; co++) {
        const int16_t *wt = packed + (((size_t)phase * 4 + t) * cout + co) * cin16;
        int32_t s = 0;
        for (int ci = 0; ci < cin16; ci++) s += x[ci] * wt[ci];
        acc[ox * cout + co] += s;
      }
    }
  }
}

void gk_q8_dequant__scalar(size_t n, const int32_t *acc, const float *mult, const float *bias,
                           int act, float *y, uint8_t *pixels) {
  for (size_t j = 0; j < n; j++) {
    float v = gk_q8_dequant_one(acc[j], mult[j], bias[j], act);
    if (y) y[j] = v;
    if (pixels) pixels[j] = gk_to_u8(v);
  }
}
