// AVX2 math shared by the x86 kernel files (included only by -avx2 files, after immintrin.h).
#ifndef GK_MATH_AVX2_H
#define GK_MATH_AVX2_H
#if defined(__x86_64__)
#include <immintrin.h>
#include "gk_internal.h"

// gk_expf_inline (common/gk_internal.h) lane by lane, operation for operation (no fused
// multiply-adds: the scalar definition compiles without them), so each lane is bitwise the
// scalar inline exp's. Used by the int8 epilogue's tanh and the row softmax.
GK_TARGET_AVX2 static inline __m256 gk_expf8_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  __m256 fx = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic), magic);
  __m256 r = _mm256_add_ps(_mm256_sub_ps(x, _mm256_mul_ps(fx, _mm256_set1_ps(0.693359375f))),
                           _mm256_mul_ps(fx, _mm256_set1_ps(2.12194440e-4f)));
  __m256 r2 = _mm256_mul_ps(r, r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
  __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, r2), r), _mm256_set1_ps(1.0f));
  __m256i n = _mm256_cvttps_epi32(fx);
  __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(y, scale);
}

#endif
#endif
