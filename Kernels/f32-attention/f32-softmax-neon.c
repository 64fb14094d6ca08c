// NEON row softmax and its backward for aarch64 (self-attention over positions). exp is
// gk_expf_inline's polynomial lane by lane, multiply and add separate (no vfma), so each
// exponential is bitwise the scalar inline one's; sums run in 4 lanes (a fixed order).
#if defined(__aarch64__)
#include "../common/gk_internal.h"
#include <arm_neon.h>

static inline float32x4_t exp4(float32x4_t x) {
  x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.0f)), vdupq_n_f32(88.0f));
  const float32x4_t magic = vdupq_n_f32(12582912.0f);
  float32x4_t fx = vsubq_f32(vaddq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)), magic), magic);
  float32x4_t r = vaddq_f32(vsubq_f32(x, vmulq_f32(fx, vdupq_n_f32(0.693359375f))),
                            vmulq_f32(fx, vdupq_n_f32(2.12194440e-4f)));
  float32x4_t r2 = vmulq_f32(r, r);
  float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.3981999507e-3f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(8.3334519073e-3f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(4.1665795894e-2f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(1.6666665459e-1f));
  p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(5.0000001201e-1f));
  float32x4_t y = vaddq_f32(vaddq_f32(vmulq_f32(p, r2), r), vdupq_n_f32(1.0f));
  int32x4_t n = vcvtq_s32_f32(fx);
  float32x4_t scale = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23));
  return vmulq_f32(y, scale);
}

static inline float hsum4(float32x4_t v) {
  float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
  return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
}

void gk_f32_softmax_rows__neon(size_t rows, size_t n, const float *x, float *y) {
  size_t nv = n & ~(size_t)3;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float m = -INFINITY;
    size_t j;
    if (nv) {
      float32x4_t vm = vld1q_f32(xr);
      for (j = 4; j < nv; j += 4) vm = vmaxq_f32(vm, vld1q_f32(xr + j));
      m = vmaxvq_f32(vm);
    }
    for (j = nv; j < n; j++) m = xr[j] > m ? xr[j] : m;
    float32x4_t vmax = vdupq_n_f32(m), vs = vdupq_n_f32(0);
    for (j = 0; j < nv; j += 4) {
      float32x4_t e = exp4(vsubq_f32(vld1q_f32(xr + j), vmax));
      vst1q_f32(yr + j, e);
      vs = vaddq_f32(vs, e);
    }
    float sum = hsum4(vs);
    for (j = nv; j < n; j++) { yr[j] = gk_expf_inline(xr[j] - m); sum += yr[j]; }
    float inv = 1.0f / sum;
    for (j = 0; j < nv; j += 4) vst1q_f32(yr + j, vmulq_n_f32(vld1q_f32(yr + j), inv));
    for (j = nv; j < n; j++) yr[j] *= inv;
  }
}

void gk_f32_softmax_backward_rows__neon(size_t rows, size_t n, const float *y, const float *dy, float *dx) {
  size_t nv = n & ~(size_t)3;
  for (size_t r = 0; r < rows; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    float32x4_t vd = vdupq_n_f32(0);
    size_t j;
    for (j = 0; j < nv; j += 4) vd = vaddq_f32(vd, vmulq_f32(vld1q_f32(gr + j), vld1q_f32(yr + j)));
    float dot = hsum4(vd);
    for (j = nv; j < n; j++) dot += gr[j] * yr[j];
    float32x4_t vdot = vdupq_n_f32(dot);
    for (j = 0; j < nv; j += 4) vst1q_f32(dr + j, vmulq_f32(vld1q_f32(yr + j), vsubq_f32(vld1q_f32(gr + j), vdot)));
    for (j = nv; j < n; j++) dr[j] = yr[j] * (gr[j] - dot);
  }
}
#endif
