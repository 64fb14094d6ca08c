// NEON int8 variant with dot products (Cortex-A76, Raspberry Pi 5): sdot multiplies four int8
// pairs per lane, 16 multiply-adds per instruction, four times smlal's. sdot is signed x signed,
// so u8 activation codes enter as code - 128 and the driver adds 128 * (column sum) back.
#include "q8_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#if defined(__clang__)
#define GK_TARGET_DOTPROD __attribute__((target("dotprod")))
#else
#define GK_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

// B panel: per group of four k, 16 columns x 4 int8 (four q registers of 4 columns).
// A: rows 0-3's four int8 of the group gathered into one q register, row i in lane i.
GK_TARGET_DOTPROD void gk_q8_gemm_ukernel_4x16__neondot(size_t kquads, const void *const *a_rows,
                                                        const int8_t *b, int32_t *acc) {
  const int8_t *a0 = a_rows[0], *a1 = a_rows[1], *a2 = a_rows[2], *a3 = a_rows[3];
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00,
            c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00,
            c33 = c00;
  for (size_t q = 0; q < kquads; q++, b += 64) {
    int32x4_t x = vdupq_n_s32(0);
    int32_t t;
    memcpy(&t, a0 + 4 * q, 4); x = vsetq_lane_s32(t, x, 0);
    memcpy(&t, a1 + 4 * q, 4); x = vsetq_lane_s32(t, x, 1);
    memcpy(&t, a2 + 4 * q, 4); x = vsetq_lane_s32(t, x, 2);
    memcpy(&t, a3 + 4 * q, 4); x = vsetq_lane_s32(t, x, 3);
    int8x16_t xa = vreinterpretq_s8_s32(x);
    int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
    c00 = vdotq_laneq_s32(c00, b0, xa, 0); c01 = vdotq_laneq_s32(c01, b1, xa, 0);
    c02 = vdotq_laneq_s32(c02, b2, xa, 0); c03 = vdotq_laneq_s32(c03, b3, xa, 0);
    c10 = vdotq_laneq_s32(c10, b0, xa, 1); c11 = vdotq_laneq_s32(c11, b1, xa, 1);
    c12 = vdotq_laneq_s32(c12, b2, xa, 1); c13 = vdotq_laneq_s32(c13, b3, xa, 1);
    c20 = vdotq_laneq_s32(c20, b0, xa, 2); c21 = vdotq_laneq_s32(c21, b1, xa, 2);
    c22 = vdotq_laneq_s32(c22, b2, xa, 2); c23 = vdotq_laneq_s32(c23, b3, xa, 2);
    c30 = vdotq_laneq_s32(c30, b0, xa, 3); c31 = vdotq_laneq_s32(c31, b1, xa, 3);
    c32 = vdotq_laneq_s32(c32, b2, xa, 3); c33 = vdotq_laneq_s32(c33, b3, xa, 3);
  }
  vst1q_s32(acc + 0, c00); vst1q_s32(acc + 4, c01); vst1q_s32(acc + 8, c02); vst1q_s32(acc + 12, c03);
  vst1q_s32(acc + 16, c10); vst1q_s32(acc + 20, c11); vst1q_s32(acc + 24, c12); vst1q_s32(acc + 28, c13);
  vst1q_s32(acc + 32, c20); vst1q_s32(acc + 36, c21); vst1q_s32(acc + 40, c22); vst1q_s32(acc + 44, c23);
  vst1q_s32(acc + 48, c30); vst1q_s32(acc + 52, c31); vst1q_s32(acc + 56, c32); vst1q_s32(acc + 60, c33);
}

void gk_q8_rows_u8__neondot(size_t k, const uint8_t *src, int8_t *dst) {
  size_t i = 0;
  uint8x16_t bias = vdupq_n_u8(0x80);
  for (; i + 16 <= k; i += 16) vst1q_s8(dst + i, vreinterpretq_s8_u8(veorq_u8(vld1q_u8(src + i), bias)));
  for (; i < k; i++) dst[i] = (int8_t)(src[i] ^ 0x80);
}

void gk_q8_rows_f32__neondot(size_t k, const float *src, float inv_scale, float lo, float hi,
                             int8_t *dst) {
  int shift = lo >= 0 ? 128 : 0;
  float32x4_t s = vdupq_n_f32(inv_scale), vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
  int32x4_t vs = vdupq_n_s32(shift);
  size_t i = 0;
  for (; i + 8 <= k; i += 8) {
    float32x4_t v0 = vminq_f32(vmaxq_f32(vmulq_f32(vld1q_f32(src + i), s), vlo), vhi);
    float32x4_t v1 = vminq_f32(vmaxq_f32(vmulq_f32(vld1q_f32(src + i + 4), s), vlo), vhi);
    int16x8_t q = vcombine_s16(vmovn_s32(vsubq_s32(vcvtnq_s32_f32(v0), vs)), vmovn_s32(vsubq_s32(vcvtnq_s32_f32(v1),
        vs)));
    vst1_s8(dst + i, vmovn_s16(q));
  }
  for (; i < k; i++) dst[i] = (int8_t)(gk_q8_quantize_one(src[i], inv_scale, lo, hi) - shift);
}
#endif
