// AVX2 int8 variant (no VNNI on this CPU class): int8 weights sign-extended to int16 as they are
// loaded (vpmovsxbw), activation pairs broadcast, vpmaddwd into int32: 16 exact multiply-adds per
// instruction, twice the fp32 FMA rate.
#include "q8_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

GK_TARGET_AVX2 static inline __m256i bcast_pair(const int16_t *row, size_t p) {
  int32_t v;
  memcpy(&v, row + 2 * p, 4);
  return _mm256_set1_epi32(v);
}

GK_TARGET_AVX2 void gk_q8_gemm_ukernel_6x16__avx2(size_t kpairs, const int16_t *const *a_rows,
                                                  const int8_t *b, int32_t *acc) {
  const int16_t *a0 = a_rows[0], *a1 = a_rows[1], *a2 = a_rows[2], *a3 = a_rows[3],
                *a4 = a_rows[4], *a5 = a_rows[5];
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
          c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (size_t p = 0; p < kpairs; p++, b += 32) {
    __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b));
    __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 16)));
    __m256i x = bcast_pair(a0, p);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));
    x = bcast_pair(a1, p);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));
    x = bcast_pair(a2, p);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));
    x = bcast_pair(a3, p);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));
    x = bcast_pair(a4, p);
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(x, b0));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(x, b1));
    x = bcast_pair(a5, p);
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(x, b0));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(x, b1));
  }
  // Lane j of a madd holds column j of the panel's first (b0) or second (b1) eight.
  __m256i *o = (__m256i *)acc;
  _mm256_store_si256(o + 0, c00); _mm256_store_si256(o + 1, c01);
  _mm256_store_si256(o + 2, c10); _mm256_store_si256(o + 3, c11);
  _mm256_store_si256(o + 4, c20); _mm256_store_si256(o + 5, c21);
  _mm256_store_si256(o + 6, c30); _mm256_store_si256(o + 7, c31);
  _mm256_store_si256(o + 8, c40); _mm256_store_si256(o + 9, c41);
  _mm256_store_si256(o + 10, c50); _mm256_store_si256(o + 11, c51);
}

GK_TARGET_AVX2 void gk_q8_widen_u8__avx2(size_t k, const uint8_t *src, int16_t *dst) {
  size_t i = 0;
  for (; i + 16 <= k; i += 16)
    _mm256_storeu_si256((__m256i *)(dst + i),
                        _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + i))));
  for (; i < k; i++) dst[i] = src[i];
}

GK_TARGET_AVX2 void gk_q8_quantize_f32__avx2(size_t k, const float *src, float inv_scale,
                                             float lo, float hi, int16_t *dst) {
  __m256 s = _mm256_set1_ps(inv_scale), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  size_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + i), s);
    v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
    __m256i q = _mm256_cvtps_epi32(v);  // round to nearest even, as lrintf
    __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storeu_si128((__m128i *)(dst + i), h);
  }
  for (; i < k; i++) dst[i] = gk_q8_quantize_one(src[i], inv_scale, lo, hi);
}

GK_TARGET_AVX2 void gk_q8_requant_u8__avx2(size_t n, const int32_t *acc, const float *mult,
                                           const float *bias, uint8_t *dst) {
  __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(acc + j)));
    v = _mm256_fmadd_ps(v, _mm256_loadu_ps(mult + j), _mm256_loadu_ps(bias + j));
    v = _mm256_min_ps(_mm256_max_ps(v, zero), top);
    __m256i q = _mm256_cvtps_epi32(v);
    __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64((__m128i *)(dst + j), _mm_packus_epi16(h, h));
  }
  for (; j < n; j++) dst[j] = gk_q8_requant_one(acc[j], mult[j], bias[j]);
}
#endif
