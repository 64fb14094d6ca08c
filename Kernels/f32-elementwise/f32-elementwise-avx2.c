// AVX2 streaming passes for x86-64: BatchNorm apply fused with ReLU / LeakyReLU, and the ReLU /
// LeakyReLU and tanh backward passes. Multiply and add stay separate (no FMA), so every output
// is bitwise the scalar reference's.
#if defined(__x86_64__)
#include "../common/gk_internal.h"
#include <immintrin.h>

GK_TARGET_AVX2
static inline __m256 act8(__m256 v, int act, __m256 slope) {
  __m256 positive = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ);
  if (act == GK_ACT_RELU) return _mm256_and_ps(positive, v);
  if (act == GK_ACT_LRELU) return _mm256_blendv_ps(_mm256_mul_ps(v, slope), v, positive);
  return v;
}

GK_TARGET_AVX2
void gk_f32_bn_apply__avx2(size_t rows, size_t c, const float *x, const float *scale,
                           const float *shift, int act, float slope, float *y) {
  if (act == GK_ACT_TANH || c < 8) {  // tanh is not a BatchNorm activation; narrow rows stay scalar
    gk_f32_bn_apply_ref(rows, c, x, scale, shift, act, slope, y);
    return;
  }
  __m256 vs = _mm256_set1_ps(slope);
  size_t cv = c & ~(size_t)7;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
    size_t j = 0;
    for (; j < cv; j += 8) {
      __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + j), _mm256_loadu_ps(scale + j)),
                               _mm256_loadu_ps(shift + j));
      _mm256_storeu_ps(yr + j, act8(v, act, vs));
    }
    for (; j < c; j++) yr[j] = gk_act_apply(xr[j] * scale[j] + shift[j], act, slope);
  }
}

GK_TARGET_AVX2
void gk_f32_act_backward__avx2(size_t count, const float *y, const float *dy, float slope, float *dx) {
  __m256 vs = _mm256_set1_ps(slope), zero = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 g = _mm256_loadu_ps(dy + i);
    __m256 positive = _mm256_cmp_ps(_mm256_loadu_ps(y + i), zero, _CMP_GT_OQ);
    _mm256_storeu_ps(dx + i, _mm256_blendv_ps(_mm256_mul_ps(g, vs), g, positive));
  }
  for (; i < count; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * slope;
}

GK_TARGET_AVX2
void gk_f32_tanh_backward__avx2(size_t count, const float *y, const float *dy, float *dx) {
  __m256 one = _mm256_set1_ps(1);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 v = _mm256_loadu_ps(y + i);
    _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), _mm256_sub_ps(one, _mm256_mul_ps(v, v))));
  }
  for (; i < count; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}
#endif
