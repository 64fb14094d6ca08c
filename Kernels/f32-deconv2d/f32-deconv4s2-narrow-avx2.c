// AVX2 + FMA narrow deconvolution row: per output pixel, 4 taps x cin channels (8 per ymm) dotted
// with up to 4 weight vectors; lanes summed in a fixed order at the end of the pixel.
#if defined(__x86_64__)
#include "../common/gk_internal.h"
#include <immintrin.h>

GK_TARGET_AVX2
static float hsum8(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// One output row for a compile-time channel count, so the COUT accumulators stay in registers
// (indexed by a runtime count they were kept in memory: 18 instead of ~70 GFLOP/s).
#define GK_NARROW_ROW(COUT)                                                                      \
  GK_TARGET_AVX2 static void narrow_row_##COUT(int h, int w, int cin, const float *x_img,        \
                                               const float *packed, const float *bias, int act,  \
                                               int oy, float *y_row, uint8_t *u8_row) {          \
    int a = oy & 1, i = oy >> 1;                                                                 \
    int cvec = cin & ~7;                                                                         \
    for (int ox = 0; ox < 2 * w; ox++) {                                                         \
      int b = ox & 1, j = ox >> 1, phase = a * 2 + b;                                            \
      __m256 acc[COUT];                                                                          \
      float tail[COUT];                                                                          \
      for (int co = 0; co < COUT; co++) { acc[co] = _mm256_setzero_ps(); tail[co] = 0.0f; }      \
      for (int t = 0; t < 4; t++) {                                                              \
        int iy = i + a - 1 + (t >> 1), ix = j + b - 1 + (t & 1);                                 \
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;                                    \
        const float *xp = x_img + ((size_t)iy * w + ix) * cin;                                   \
        const float *wp = packed + ((size_t)phase * 4 + t) * COUT * cin;                         \
        for (int ci = 0; ci < cvec; ci += 8) {                                                   \
          __m256 xv = _mm256_loadu_ps(xp + ci);                                                  \
          for (int co = 0; co < COUT; co++)                                                      \
            acc[co] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wp + (size_t)co * cin + ci), acc[co]); \
        }                                                                                        \
        for (int ci = cvec; ci < cin; ci++)                                                      \
          for (int co = 0; co < COUT; co++) tail[co] += xp[ci] * wp[(size_t)co * cin + ci];      \
      }                                                                                          \
      for (int co = 0; co < COUT; co++) {                                                        \
        float v = hsum8(acc[co]) + tail[co] + (bias ? bias[co] : 0.0f);                          \
        v = gk_act_apply(v, act, 0.2f);                                                          \
        y_row[(size_t)ox * COUT + co] = v;                                                       \
        if (u8_row) u8_row[(size_t)ox * COUT + co] = gk_to_u8(v);                                \
      }                                                                                          \
    }                                                                                            \
  }

GK_NARROW_ROW(1)
GK_NARROW_ROW(2)
GK_NARROW_ROW(3)
GK_NARROW_ROW(4)

GK_TARGET_AVX2
void gk_f32_deconv4s2_narrow_row__avx2(int h, int w, int cin, int cout, const float *x_img,
                                       const float *packed, const float *bias, int act, int oy,
                                       float *y_row, uint8_t *u8_row) {
  switch (cout) {
    case 1: narrow_row_1(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
    case 2: narrow_row_2(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
    case 3: narrow_row_3(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
    default: narrow_row_4(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
  }
}
#endif
