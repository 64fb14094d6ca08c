// NEON streaming passes for aarch64: BatchNorm apply fused with ReLU / LeakyReLU, and the ReLU /
// LeakyReLU and tanh backward passes (the AVX2 ones are in f32-elementwise-avx2.c).
#include "../common/gk_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

static inline float32x4_t act4(float32x4_t v, int act, float32x4_t slope) {
  if (act == GK_ACT_RELU) return vmaxq_f32(v, vdupq_n_f32(0));
  if (act == GK_ACT_LRELU) return vbslq_f32(vcgtq_f32(v, vdupq_n_f32(0)), v, vmulq_f32(v, slope));
  return v;
}

void gk_f32_bn_apply__neon(size_t rows, size_t c, const float *x, const float *scale,
                           const float *shift, int act, float slope, float *y) {
  if (act == GK_ACT_TANH) {  // not a BatchNorm activation here; the scalar pass has it
    gk_f32_bn_apply_ref(rows, c, x, scale, shift, act, slope, y);
    return;
  }
  float32x4_t vs = vdupq_n_f32(slope);
  size_t cv = c & ~(size_t)3;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
    size_t j = 0;
    for (; j < cv; j += 4) {
      float32x4_t v = vfmaq_f32(vld1q_f32(shift + j), vld1q_f32(xr + j), vld1q_f32(scale + j));
      vst1q_f32(yr + j, act4(v, act, vs));
    }
    for (; j < c; j++) yr[j] = gk_act_apply(xr[j] * scale[j] + shift[j], act, slope);
  }
}

void gk_f32_act_backward__neon(size_t count, const float *y, const float *dy, float slope,
                               float *dx) {
  float32x4_t vs = vdupq_n_f32(slope), zero = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    float32x4_t g = vld1q_f32(dy + i);
    vst1q_f32(dx + i, vbslq_f32(vcgtq_f32(vld1q_f32(y + i), zero), g, vmulq_f32(g, vs)));
  }
  for (; i < count; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * slope;
}

void gk_f32_tanh_backward__neon(size_t count, const float *y, const float *dy, float *dx) {
  float32x4_t one = vdupq_n_f32(1);
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    float32x4_t v = vld1q_f32(y + i);
    vst1q_f32(dx + i, vmulq_f32(vld1q_f32(dy + i), vmlsq_f32(one, v, v)));
  }
  for (; i < count; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}
#endif
