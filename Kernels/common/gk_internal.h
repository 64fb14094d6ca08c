// Internal helpers shared by the kernel files. Not part of the Swift-visible header.
#ifndef GK_INTERNAL_H
#define GK_INTERNAL_H

#include "gan_kernels.h"
#include <math.h>
#include <string.h>

#define GK_TARGET_AVX2 __attribute__((target("avx2,fma")))

// GEMM blocking shared by all variants. MC is a multiple of GK_STAT_ROWS, which every MR divides,
// so a statistics granule never straddles two tasks and its partial sums have a fixed order.
#ifndef GK_KC_SET
#define GK_KC_SET 256
#endif
#ifndef GK_MC_SET
#define GK_MC_SET 192
#endif
#ifndef GK_NC_SET
#define GK_NC_SET 8192
#endif
// Packed-B columns are rounded to a multiple of every NR (12 on NEON, 16 on x86): a whole number
// of panels always fits the region the workspace reserves.
enum { GK_NC_ROUND = 96 };
enum { GK_KC = GK_KC_SET, GK_MC_MAX = GK_MC_SET, GK_NC_MAX = GK_NC_SET, GK_STAT_ROWS = 48, GK_MR_MAX = 16,
       GK_NR_MAX = 32 };

static inline size_t gk_rowmap_off(const gk_rowmap *r, size_t i) {
  if (r->group == SIZE_MAX) return r->tab[0] + i * r->inner;  // plain matrix: no divisions
  size_t g = i / r->group;
  size_t t = r->ntab > 1 ? g % (size_t)r->ntab : 0;
  size_t q = r->ntab > 1 ? g / (size_t)r->ntab : g;
  return r->tab[t] + q * r->outer + (i % r->group) * r->inner;
}

// The 16-tap window of a Conv2d(4, 2, 1) over an (h, w, c) image: output (h/2, w/2), tap t at
// row offset (t >> 2) - 1, column offset (t & 3) - 1. Used by conv forward and deconv backward-data.
static inline void gk_window_s2(gk_window *win, int h, int w, int c) {
  memset(win, 0, sizeof *win);
  win->h = h; win->w = w; win->c = c; win->oh = h / 2; win->ow = w / 2; win->stride = 2;
  win->ntaps = 16;
  for (int t = 0; t < 16; t++) { win->dy[t] = (t >> 2) - 1; win->dx[t] = (t & 3) - 1; }
}

/// Runs body(ctx, tid, nth) on `threads` threads (directly when 1): the only OpenMP region shape
/// the kernels use. Work inside is partitioned by hand with gk_barrier between phases.
void gk_run_parallel(int threads, void (*body)(void *ctx, int tid, int nth), void *ctx);
void gk_barrier(int nth);

static inline float gk_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// exp for x in [-87, 88] (Cephes polynomial), branch-free so loops vectorize.
static inline float gk_expf_inline(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float fx = (x * 1.44269504088896341f + magic) - magic;
  float r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
  float r2 = r * r;
  float y = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
               4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f) * r2 + r + 1.0f;
  int32_t n = (int32_t)fx;
  return y * gk_bits_to_f32((uint32_t)(n + 127) << 23);
}

// tanh: odd polynomial below 0.625 (Cephes), 1 - 2 / (exp(2|x|) + 1) above.
static inline float gk_tanhf_inline(float x) {
  float ax = fabsf(x);
  float z = x * x;
  float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                  1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  float e = gk_expf_inline(2.0f * (ax > 10.0f ? 10.0f : ax));
  float big = 1.0f - 2.0f / (e + 1.0f);
  big = x < 0 ? -big : big;
  return ax < 0.625f ? small : big;
}

// A tanh output in [-1, 1] as a pixel: round-half-up of (v + 1) * 127.5, clamped (the reference
// gk_f32_to_u8_ref rounds the same way).
static inline uint8_t gk_to_u8(float v) {
  float p = (v + 1.0f) * 127.5f;
  p = p < 0 ? 0 : (p > 255 ? 255 : p);
  return (uint8_t)(p + 0.5f);
}

// The activation's backward gate from its output y: ReLU passes g where y > 0, LeakyReLU scales
// it by slope elsewhere, anything else passes it.
static inline float gk_act_grad(float g, float y, int act, float slope) {
  if (act == GK_ACT_RELU) return y > 0 ? g : 0.0f;
  if (act == GK_ACT_LRELU) return y > 0 ? g : g * slope;
  return g;
}

static inline float gk_act_apply(float v, int act, float slope) {
  switch (act) {
    case GK_ACT_RELU: return v > 0 ? v : 0.0f;
    case GK_ACT_LRELU: return v > 0 ? v : v * slope;
    case GK_ACT_TANH: return gk_tanhf_inline(v);
    default: return v;
  }
}

// Micro-kernels: c_rows[MR] rows of NR floats; a_packed [kc][MR], b_packed [kc][NR].
void gk_f32_gemm_ukernel_4x16__scalar(size_t kc, const float *a, const float *b, float *const *c,
                                      int accumulate);
#if defined(__aarch64__)
void gk_f32_gemm_ukernel_8x12__neonfma(size_t kc, const float *a, const float *b, float *const *c,
                                       int accumulate);
#endif
#if defined(__x86_64__) || defined(_M_X64)
void gk_f32_gemm_ukernel_6x16__avx2(size_t kc, const float *a, const float *b, float *const *c,
                                    int accumulate);
#endif

void gk_f32_deconv4s2_narrow_row__scalar(int h, int w, int cin, int cout, const float *x_img,
                                        const float *packed, const float *bias, int act, int oy,
                                        float *y_row, uint8_t *u8_row);
#if defined(__aarch64__)
void gk_f32_deconv4s2_narrow_row__neon(int h, int w, int cin, int cout, const float *x_img,
                                       const float *packed, const float *bias, int act, int oy,
                                       float *y_row, uint8_t *u8_row);
#endif
#if defined(__x86_64__)
void gk_f32_deconv4s2_narrow_row__avx2(int h, int w, int cin, int cout, const float *x_img,
                                       const float *packed, const float *bias, int act, int oy,
                                       float *y_row, uint8_t *u8_row);
#endif

#if defined(__aarch64__)
void gk_f32_softmax_rows__neon(size_t rows, size_t n, const float *x, float *y);
void gk_f32_softmax_backward_rows__neon(size_t rows, size_t n, const float *y, const float *dy, float *dx);
void gk_f32_bn_apply__neon(size_t rows, size_t c, const float *x, const float *scale,
                           const float *shift, int act, float slope, float *y);
void gk_f32_act_backward__neon(size_t count, const float *y, const float *dy, float slope,
                               float *dx);
void gk_f32_tanh_backward__neon(size_t count, const float *y, const float *dy, float *dx);
#endif
#if defined(__x86_64__)
void gk_f32_softmax_rows__avx2(size_t rows, size_t n, const float *x, float *y);
void gk_f32_softmax_backward_rows__avx2(size_t rows, size_t n, const float *y, const float *dy, float *dx);
void gk_f32_bn_apply__avx2(size_t rows, size_t c, const float *x, const float *scale,
                           const float *shift, int act, float slope, float *y);
void gk_f32_act_backward__avx2(size_t count, const float *y, const float *dy, float slope,
                               float *dx);
void gk_f32_tanh_backward__avx2(size_t count, const float *y, const float *dy, float *dx);
#endif

void gk_f32_gemm_with(const gk_gemm_variant *v, size_t m, size_t n, size_t k, const gk_operand *a,
                      const gk_operand *b, const gk_output *c, const gk_epilogue *ep,
                      void *workspace, int threads);

#endif
