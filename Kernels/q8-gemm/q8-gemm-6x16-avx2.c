// AVX2 int8 variant (no VNNI on this CPU class): int8 weights sign-extended to int16 as they are
// loaded (vpmovsxbw), activation pairs broadcast, vpmaddwd into int32: 16 exact multiply-adds per
// instruction, twice the fp32 FMA rate.
#include "q8_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "../common/gk_math_avx2.h"

// GCC's intrinsics are plain vector arithmetic, which it would fuse into FMAs by default; the
// epilogue must round exactly as the scalar definitions.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

GK_TARGET_AVX2 static inline __m256i bcast_pair(const int16_t *row, size_t p) {
  int32_t v;
  memcpy(&v, row + 2 * p, 4);
  return _mm256_set1_epi32(v);
}

// acc[6][16] += rows a0-a5 (int16 pairs broadcast) x columns b0 (0-7) and b1 (8-15), as int16 pairs:
// 16 exact multiply-adds per vpmaddwd. Shared by both micro-kernels, which differ in how B loads.
#define GK_Q8_MADD_6X16(P)                                                   \
  do {                                                                       \
    __m256i x = bcast_pair(a0, P);                                           \
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0));                   \
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));                   \
    x = bcast_pair(a1, P);                                                   \
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0));                   \
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));                   \
    x = bcast_pair(a2, P);                                                   \
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0));                   \
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));                   \
    x = bcast_pair(a3, P);                                                   \
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0));                   \
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));                   \
    x = bcast_pair(a4, P);                                                   \
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(x, b0));                   \
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(x, b1));                   \
    x = bcast_pair(a5, P);                                                   \
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(x, b0));                   \
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(x, b1));                   \
  } while (0)

#define GK_Q8_ROWS_6X16                                                                      \
  const int16_t *const *a_rows = (const int16_t *const *)a_rows_v;                           \
  const int16_t *a0 = a_rows[0], *a1 = a_rows[1], *a2 = a_rows[2], *a3 = a_rows[3],          \
                *a4 = a_rows[4], *a5 = a_rows[5];                                            \
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, \
          c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00

// Lane j of a madd holds column j of the panel's first (b0) or second (b1) eight.
#define GK_Q8_STORE_6X16                                                     \
  do {                                                                       \
    __m256i *o = (__m256i *)acc;                                             \
    _mm256_store_si256(o + 0, c00); _mm256_store_si256(o + 1, c01);          \
    _mm256_store_si256(o + 2, c10); _mm256_store_si256(o + 3, c11);          \
    _mm256_store_si256(o + 4, c20); _mm256_store_si256(o + 5, c21);          \
    _mm256_store_si256(o + 6, c30); _mm256_store_si256(o + 7, c31);          \
    _mm256_store_si256(o + 8, c40); _mm256_store_si256(o + 9, c41);          \
    _mm256_store_si256(o + 10, c50); _mm256_store_si256(o + 11, c51);        \
  } while (0)

GK_TARGET_AVX2 void gk_q8_gemm_ukernel_6x16__avx2(size_t kpairs, const void *const *a_rows_v,
                                                  const int8_t *b, int32_t *acc) {
  GK_Q8_ROWS_6X16;
  for (size_t p = 0; p < kpairs; p++, b += 32) {
    __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b));
    __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 16)));
    GK_Q8_MADD_6X16(p);
  }
  GK_Q8_STORE_6X16;
}

// The same with int16 weights loaded as they are: [K/2][16][2] int16 is two vectors per pair.
GK_TARGET_AVX2 void gk_q8_gemm_w16_ukernel_6x16__avx2(size_t kpairs, const void *const *a_rows_v,
                                                      const int16_t *b, int32_t *acc) {
  GK_Q8_ROWS_6X16;
  for (size_t p = 0; p < kpairs; p++, b += 32) {
    __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
    __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 16));
    GK_Q8_MADD_6X16(p);
  }
  GK_Q8_STORE_6X16;
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

// Per pixel and output channel, eight int32 lanes of vpmaddwd over the taps' channels, summed
// across lanes at the end (exact, so the order does not matter). COUT is a constant in each
// instantiation so the sums stay in registers.
GK_TARGET_AVX2 static inline int32_t hsum_epi32(__m256i s) {
  __m128i v = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4E));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xB1));
  return _mm_cvtsi128_si32(v);
}

GK_TARGET_AVX2 static inline void narrow_row(int w, int cin16, const int COUT, int a,
                                             const int16_t *row0, const int16_t *row1,
                                             const int16_t *packed, int32_t *acc) {
  for (int ox = 0; ox < 2 * w; ox++) {
    int b = ox & 1, j = ox >> 1, phase = a * 2 + b;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (int t = 0; t < 4; t++) {
      const int16_t *row = (t >> 1) ? row1 : row0;
      int ix = j + b - 1 + (t & 1);
      if (!row || ix < 0 || ix >= w) continue;
      const int16_t *x = row + (size_t)ix * cin16;
      const int16_t *wt = packed + ((size_t)phase * 4 + t) * COUT * cin16;
      for (int ci = 0; ci < cin16; ci += 16) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(x + ci));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(wt + ci))));
        if (COUT > 1) s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(xv,
                                                                  _mm256_loadu_si256((const __m256i *)(wt + cin16 + ci))));
        if (COUT > 2) s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(xv,
                                                                  _mm256_loadu_si256((const __m256i *)(wt + 2 * (size_t)cin16 + ci))));
        if (COUT > 3) s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(xv,
                                                                  _mm256_loadu_si256((const __m256i *)(wt + 3 * (size_t)cin16 + ci))));
      }
    }
    int32_t *o = acc + ox * COUT;
    o[0] = hsum_epi32(s0);
    if (COUT > 1) o[1] = hsum_epi32(s1);
    if (COUT > 2) o[2] = hsum_epi32(s2);
    if (COUT > 3) o[3] = hsum_epi32(s3);
  }
}

GK_TARGET_AVX2 void gk_q8_narrow_row__avx2(int w, int cin16, int cout, int a, const int16_t *row0,
                                           const int16_t *row1, const int16_t *packed,
                                           int32_t *acc) {
  switch (cout) {
    case 1: narrow_row(w, cin16, 1, a, row0, row1, packed, acc); break;
    case 2: narrow_row(w, cin16, 2, a, row0, row1, packed, acc); break;
    case 3: narrow_row(w, cin16, 3, a, row0, row1, packed, acc); break;
    default: narrow_row(w, cin16, 4, a, row0, row1, packed, acc); break;
  }
}

// gk_tanhf_inline operation for operation (exp: gk_expf8_avx2; no fused multiply-adds: the
// scalar definitions compile without them), so the results are bitwise those of the scalar epilogue.
GK_TARGET_AVX2 static inline __m256 tanhf8(__m256 x) {
  __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
  p = _mm256_add_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_sub_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(5.37397155531e-2f));
  p = _mm256_add_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_sub_ps(_mm256_mul_ps(p, z), _mm256_set1_ps(3.33332819422e-1f));
  __m256 small = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, z), x), x);
  __m256 e = gk_expf8_avx2(_mm256_mul_ps(_mm256_set1_ps(2.0f), _mm256_min_ps(ax, _mm256_set1_ps(10.0f))));
  __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e,
      _mm256_set1_ps(1.0f))));
  __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  big = _mm256_blendv_ps(big, _mm256_sub_ps(_mm256_setzero_ps(), big), neg);
  return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

GK_TARGET_AVX2 void gk_q8_dequant__avx2(size_t n, const int32_t *acc, const float *mult,
                                        const float *bias, int act, float *y, uint8_t *pixels) {
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(acc + j))),
                               _mm256_loadu_ps(mult + j), _mm256_loadu_ps(bias + j));
    if (act == GK_Q8_ACT_TANH) v = tanhf8(v);
    else if (act == GK_Q8_ACT_RELU) v = _mm256_max_ps(v, _mm256_setzero_ps());
    if (y) _mm256_storeu_ps(y + j, v);
    if (pixels) {
      // gk_to_u8: (v + 1) * 127.5 clamped to [0, 255], + 0.5, truncated.
      __m256 p = _mm256_mul_ps(_mm256_add_ps(v, _mm256_set1_ps(1.0f)), _mm256_set1_ps(127.5f));
      p = _mm256_min_ps(_mm256_max_ps(p, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
      __m256i q = _mm256_cvttps_epi32(_mm256_add_ps(p, _mm256_set1_ps(0.5f)));
      __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      _mm_storel_epi64((__m128i *)(pixels + j), _mm_packus_epi16(h, h));
    }
  }
  // The tail through the scalar file: inlined here, the compiler could fuse the tanh's
  // multiply-adds (GCC contracts by default where FMA is enabled).
  if (j < n) gk_q8_dequant__scalar(n - j, acc + j, mult + j, bias + j, act, y ? y + j : NULL,
                                   pixels ? pixels + j : NULL);
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
