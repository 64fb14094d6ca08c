// AVX2 row softmax and its backward for x86-64 (self-attention over positions). exp is
// gk_expf8_avx2 (common/gk_math_avx2.h: bitwise gk_expf_inline per lane); sums run in 8 lanes
// (a fixed order).
#if defined(__x86_64__)
#include "../common/gk_internal.h"
#include <immintrin.h>
#include "../common/gk_math_avx2.h"

GK_TARGET_AVX2
static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

GK_TARGET_AVX2
static inline float hmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

GK_TARGET_AVX2
void gk_f32_softmax_rows__avx2(size_t rows, size_t n, const float *x, float *y) {
  size_t nv = n & ~(size_t)7;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float m = -INFINITY;
    size_t j = 0;
    if (nv) {
      __m256 vm = _mm256_loadu_ps(xr);
      for (j = 8; j < nv; j += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(xr + j));
      m = hmax8(vm);
    }
    for (j = nv; j < n; j++) m = xr[j] > m ? xr[j] : m;
    __m256 vmax = _mm256_set1_ps(m), vs = _mm256_setzero_ps();
    for (j = 0; j < nv; j += 8) {
      __m256 e = gk_expf8_avx2(_mm256_sub_ps(_mm256_loadu_ps(xr + j), vmax));
      _mm256_storeu_ps(yr + j, e);
      vs = _mm256_add_ps(vs, e);
    }
    float sum = hsum8(vs);
    for (j = nv; j < n; j++) { yr[j] = gk_expf_inline(xr[j] - m); sum += yr[j]; }
    float inv = 1.0f / sum;
    __m256 vinv = _mm256_set1_ps(inv);
    for (j = 0; j < nv; j += 8) _mm256_storeu_ps(yr + j, _mm256_mul_ps(_mm256_loadu_ps(yr + j), vinv));
    for (j = nv; j < n; j++) yr[j] *= inv;
  }
}

GK_TARGET_AVX2
void gk_f32_softmax_backward_rows__avx2(size_t rows, size_t n, const float *y, const float *dy, float *dx) {
  size_t nv = n & ~(size_t)7;
  for (size_t r = 0; r < rows; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    __m256 vd = _mm256_setzero_ps();
    size_t j;
    for (j = 0; j < nv; j += 8) vd = _mm256_add_ps(vd, _mm256_mul_ps(_mm256_loadu_ps(gr + j), _mm256_loadu_ps(yr + j)));
    float dot = hsum8(vd);
    for (j = nv; j < n; j++) dot += gr[j] * yr[j];
    __m256 vdot = _mm256_set1_ps(dot);
    for (j = 0; j < nv; j += 8)
      _mm256_storeu_ps(dr + j, _mm256_mul_ps(_mm256_loadu_ps(yr + j), _mm256_sub_ps(_mm256_loadu_ps(gr + j), vdot)));
    for (j = nv; j < n; j++) dr[j] = yr[j] * (gr[j] - dot);
  }
}
#endif
