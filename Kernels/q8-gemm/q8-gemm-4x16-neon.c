// NEON int8 variant without dot products (Cortex-A72, Raspberry Pi 4): int8 weight pairs
// de-interleaved by vld2q_s8 and widened to int16, then smlal by activation lane into int32:
// 4 rows x 16 columns, 16 accumulators.
#include "q8_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

// c[i][0..3] += row i's pair (lanes L0, L1 of X) x the 16 columns of rows 2p (w0l: columns 0-7,
// w0h: 8-15) and 2p + 1 (w1l, w1h), by smlal into int32.
#define GK_Q8_ROW(i, X, L0, L1)                                                   \
  c[i][0] = vmlal_lane_s16(c[i][0], vget_low_s16(w0l), X, L0);                   \
  c[i][1] = vmlal_lane_s16(c[i][1], vget_high_s16(w0l), X, L0);                  \
  c[i][2] = vmlal_lane_s16(c[i][2], vget_low_s16(w0h), X, L0);                   \
  c[i][3] = vmlal_lane_s16(c[i][3], vget_high_s16(w0h), X, L0);                  \
  c[i][0] = vmlal_lane_s16(c[i][0], vget_low_s16(w1l), X, L1);                   \
  c[i][1] = vmlal_lane_s16(c[i][1], vget_high_s16(w1l), X, L1);                  \
  c[i][2] = vmlal_lane_s16(c[i][2], vget_low_s16(w1h), X, L1);                   \
  c[i][3] = vmlal_lane_s16(c[i][3], vget_high_s16(w1h), X, L1);

// Lanes 0, 1: the pair (k = 2p, 2p + 1) of rows 0 and 1; lanes 2, 3: rows 2 and 3; then all four rows.
#define GK_Q8_PAIR_4X16(P)                                                                          \
  do {                                                                                              \
    int16x4_t x01 = vreinterpret_s16_s32(vzip1_s32(vld1_dup_s32((const int32_t *)(a0 + 2 * (P))),   \
                                                   vld1_dup_s32((const int32_t *)(a1 + 2 * (P)))));  \
    int16x4_t x23 = vreinterpret_s16_s32(vzip1_s32(vld1_dup_s32((const int32_t *)(a2 + 2 * (P))),   \
                                                   vld1_dup_s32((const int32_t *)(a3 + 2 * (P)))));  \
    GK_Q8_ROW(0, x01, 0, 1)                                                                         \
    GK_Q8_ROW(1, x01, 2, 3)                                                                         \
    GK_Q8_ROW(2, x23, 0, 1)                                                                         \
    GK_Q8_ROW(3, x23, 2, 3)                                                                         \
  } while (0)

static inline void store_4x16(int32x4_t c[4][4], int32_t *acc) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) vst1q_s32(acc + i * 16 + j * 4, c[i][j]);
}

void gk_q8_gemm_ukernel_4x16__neon(size_t kpairs, const void *const *a_rows_v, const int8_t *b,
                                   int32_t *acc) {
  const int16_t *const *a_rows = (const int16_t *const *)a_rows_v;
  int32x4_t c[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) c[i][j] = vdupq_n_s32(0);
  const int16_t *a0 = a_rows[0], *a1 = a_rows[1], *a2 = a_rows[2], *a3 = a_rows[3];
  for (size_t p = 0; p < kpairs; p++, b += 32) {
    int8x16x2_t w = vld2q_s8(b);  // val[0]: row 2p of the 16 columns, val[1]: row 2p + 1
    int16x8_t w0l = vmovl_s8(vget_low_s8(w.val[0])), w0h = vmovl_high_s8(w.val[0]);
    int16x8_t w1l = vmovl_s8(vget_low_s8(w.val[1])), w1h = vmovl_high_s8(w.val[1]);
    GK_Q8_PAIR_4X16(p);
  }
  store_4x16(c, acc);
}

// The same with int16 weights: vld2q_s16 de-interleaves a pair of rows for 8 columns.
void gk_q8_gemm_w16_ukernel_4x16__neon(size_t kpairs, const void *const *a_rows_v, const int16_t *b,
                                       int32_t *acc) {
  const int16_t *const *a_rows = (const int16_t *const *)a_rows_v;
  int32x4_t c[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) c[i][j] = vdupq_n_s32(0);
  const int16_t *a0 = a_rows[0], *a1 = a_rows[1], *a2 = a_rows[2], *a3 = a_rows[3];
  for (size_t p = 0; p < kpairs; p++, b += 32) {
    int16x8x2_t lo = vld2q_s16(b), hi = vld2q_s16(b + 16);  // columns 0-7 and 8-15
    int16x8_t w0l = lo.val[0], w1l = lo.val[1], w0h = hi.val[0], w1h = hi.val[1];
    GK_Q8_PAIR_4X16(p);
  }
  store_4x16(c, acc);
}

void gk_q8_widen_u8__neon(size_t k, const uint8_t *src, int16_t *dst) {
  size_t i = 0;
  for (; i + 16 <= k; i += 16) {
    uint8x16_t v = vld1q_u8(src + i);
    vst1q_s16(dst + i, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))));
    vst1q_s16(dst + i + 8, vreinterpretq_s16_u16(vmovl_high_u8(v)));
  }
  for (; i < k; i++) dst[i] = src[i];
}

void gk_q8_quantize_f32__neon(size_t k, const float *src, float inv_scale, float lo, float hi,
                              int16_t *dst) {
  float32x4_t s = vdupq_n_f32(inv_scale), vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  size_t i = 0;
  for (; i + 4 <= k; i += 4) {
    float32x4_t v = vminq_f32(vmaxq_f32(vmulq_f32(vld1q_f32(src + i), s), vlo), vhi);
    vst1_s16(dst + i, vmovn_s32(vcvtnq_s32_f32(v)));  // round to nearest even, as lrintf
  }
  for (; i < k; i++) dst[i] = gk_q8_quantize_one(src[i], inv_scale, lo, hi);
}

void gk_q8_requant_u8__neon(size_t n, const int32_t *acc, const float *mult, const float *bias,
                            uint8_t *dst) {
  float32x4_t zero = vdupq_n_f32(0), top = vdupq_n_f32(255);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    float32x4_t v0 = vfmaq_f32(vld1q_f32(bias + j), vcvtq_f32_s32(vld1q_s32(acc + j)), vld1q_f32(mult + j));
    float32x4_t v1 = vfmaq_f32(vld1q_f32(bias + j + 4), vcvtq_f32_s32(vld1q_s32(acc + j + 4)), vld1q_f32(mult + j + 4));
    v0 = vminq_f32(vmaxq_f32(v0, zero), top);
    v1 = vminq_f32(vmaxq_f32(v1, zero), top);
    int16x8_t q = vcombine_s16(vmovn_s32(vcvtnq_s32_f32(v0)), vmovn_s32(vcvtnq_s32_f32(v1)));
    vst1_u8(dst + j, vqmovun_s16(q));
  }
  for (; j < n; j++) dst[j] = gk_q8_requant_one(acc[j], mult[j], bias[j]);
}

// The fp32 epilogues (12k values per 64 px image) stay scalar: a vector tanh would have to
// reproduce the compiler's contraction choices in the scalar definition.
void gk_q8_dequant__neon(size_t n, const int32_t *acc, const float *mult, const float *bias,
                         int act, float *y, uint8_t *pixels) {
  gk_q8_dequant__scalar(n, acc, mult, bias, act, y, pixels);
}

void gk_q8_narrow_row__neon(int w, int cin16, int cout, int a, const int16_t *row0,
                            const int16_t *row1, const int16_t *packed, int32_t *acc) {
  for (int ox = 0; ox < 2 * w; ox++) {
    int b = ox & 1, j = ox >> 1, phase = a * 2 + b;
    int32x4_t s[GK_Q8_NARROW_MAX_COUT] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    for (int t = 0; t < 4; t++) {
      const int16_t *row = (t >> 1) ? row1 : row0;
      int ix = j + b - 1 + (t & 1);
      if (!row || ix < 0 || ix >= w) continue;
      const int16_t *x = row + (size_t)ix * cin16;
      const int16_t *wt = packed + ((size_t)phase * 4 + t) * cout * cin16;
      for (int ci = 0; ci < cin16; ci += 8) {
        int16x8_t xv = vld1q_s16(x + ci);
        for (int co = 0; co < cout; co++) {
          int16x8_t wv = vld1q_s16(wt + (size_t)co * cin16 + ci);
          s[co] = vmlal_s16(s[co], vget_low_s16(xv), vget_low_s16(wv));
          s[co] = vmlal_high_s16(s[co], xv, wv);
        }
      }
    }
    for (int co = 0; co < cout; co++) acc[ox * cout + co] = vaddvq_s32(s[co]);
  }
}
#endif
