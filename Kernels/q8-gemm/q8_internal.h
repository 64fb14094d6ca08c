// Internal declarations of the int8 kernels.
#ifndef GK_Q8_INTERNAL_H
#define GK_Q8_INTERNAL_H

#include "../common/gk_internal.h"

enum { GK_Q8_MR_MAX = 8, GK_Q8_NR_MAX = 16 };

/// The fp32 epilogue of one output row (ncols columns from col0) at element offset off.
void gk_q8_epilogue_row(const gk_q8_variant *v, const gk_q8_layer *l, size_t col0, size_t ncols,
                        const int32_t *acc, size_t off);

/// Activation codes of k values of layer l's input from element off, as the variant's A rows.
void gk_q8_convert_run(const gk_q8_variant *v, const gk_q8_layer *l, size_t off, size_t k, void *dst);

/// The Winograd F(2x2, 2x2) layer (q8-deconv4s2-winograd.c): workspace per thread and shared, and
/// thread tid's part of the layer (barriers inside: every thread of the region must call it).
size_t gk_q8_winograd2_thread_bytes(const gk_q8_variant *v, const gk_q8_layer *l);
size_t gk_q8_winograd2_shared_bytes(const gk_q8_variant *v, const gk_q8_layer *l);
void gk_q8_winograd2_run_layer(const gk_q8_variant *v, const gk_q8_layer *l, int tid, int nth, char *thread_ws,
                           char *shared);

/// Scalar definitions of the per-element arithmetic: every variant reproduces them bit for bit.
static inline int16_t gk_q8_quantize_one(float x, float inv_scale, float lo, float hi) {
  float v = x * inv_scale;
  v = v < lo ? lo : (v > hi ? hi : v);
  return (int16_t)lrintf(v);
}
/// act: GK_Q8_ACT_RELU, GK_Q8_ACT_TANH or GK_Q8_ACT_NONE.
static inline float gk_q8_dequant_one(int32_t acc, float mult, float bias, int act) {
  float v = fmaf((float)acc, mult, bias);
  return act == GK_Q8_ACT_TANH ? gk_tanhf_inline(v) : (act == GK_Q8_ACT_NONE || v > 0 ? v : 0.0f);
}
static inline uint8_t gk_q8_requant_one(int32_t acc, float mult, float bias) {
  float v = fmaf((float)acc, mult, bias);
  v = v < 0 ? 0 : (v > 255 ? 255 : v);
  return (uint8_t)lrintf(v);
}

void gk_q8_dequant__scalar(size_t n, const int32_t *acc, const float *mult, const float *bias,
                           int act, float *y, uint8_t *pixels);
void gk_q8_narrow_row__scalar(int w, int cin16, int cout, int a, const int16_t *row0,
                              const int16_t *row1, const int16_t *packed, int32_t *acc);
void gk_q8_gemm_ukernel_4x16__scalar(size_t kpairs, const void *const *a_rows,
                                     const int8_t *b, int32_t *acc);
void gk_q8_gemm_w16_ukernel_4x16__scalar(size_t kpairs, const void *const *a_rows,
                                         const int16_t *b, int32_t *acc);
void gk_q8_widen_u8__scalar(size_t k, const uint8_t *src, int16_t *dst);
void gk_q8_quantize_f32__scalar(size_t k, const float *src, float inv_scale, float lo, float hi,
                                int16_t *dst);
void gk_q8_requant_u8__scalar(size_t n, const int32_t *acc, const float *mult, const float *bias,
                              uint8_t *dst);
#if defined(__x86_64__)
void gk_q8_gemm_ukernel_6x16__avx2(size_t kpairs, const void *const *a_rows, const int8_t *b,
                                   int32_t *acc);
void gk_q8_gemm_w16_ukernel_6x16__avx2(size_t kpairs, const void *const *a_rows, const int16_t *b,
                                       int32_t *acc);
void gk_q8_widen_u8__avx2(size_t k, const uint8_t *src, int16_t *dst);
void gk_q8_quantize_f32__avx2(size_t k, const float *src, float inv_scale, float lo, float hi,
                              int16_t *dst);
void gk_q8_dequant__avx2(size_t n, const int32_t *acc, const float *mult, const float *bias,
                         int act, float *y, uint8_t *pixels);
void gk_q8_narrow_row__avx2(int w, int cin16, int cout, int a, const int16_t *row0,
                            const int16_t *row1, const int16_t *packed, int32_t *acc);
void gk_q8_requant_u8__avx2(size_t n, const int32_t *acc, const float *mult, const float *bias,
                            uint8_t *dst);
#endif
#if defined(__aarch64__)
void gk_q8_gemm_ukernel_4x16__neon(size_t kpairs, const void *const *a_rows, const int8_t *b,
                                   int32_t *acc);
void gk_q8_gemm_w16_ukernel_4x16__neon(size_t kpairs, const void *const *a_rows, const int16_t *b,
                                       int32_t *acc);
void gk_q8_widen_u8__neon(size_t k, const uint8_t *src, int16_t *dst);
void gk_q8_quantize_f32__neon(size_t k, const float *src, float inv_scale, float lo, float hi,
                              int16_t *dst);
void gk_q8_requant_u8__neon(size_t n, const int32_t *acc, const float *mult, const float *bias,
                            uint8_t *dst);
void gk_q8_dequant__neon(size_t n, const int32_t *acc, const float *mult, const float *bias,
                         int act, float *y, uint8_t *pixels);
void gk_q8_narrow_row__neon(int w, int cin16, int cout, int a, const int16_t *row0,
                            const int16_t *row1, const int16_t *packed, int32_t *acc);
void gk_q8_gemm_ukernel_4x16__neondot(size_t kquads, const void *const *a_rows, const int8_t *b,
                                      int32_t *acc);
void gk_q8_rows_u8__neondot(size_t k, const uint8_t *src, int8_t *dst);
void gk_q8_rows_f32__neondot(size_t k, const float *src, float inv_scale, float lo, float hi,
                             int8_t *dst);
#endif

#endif
