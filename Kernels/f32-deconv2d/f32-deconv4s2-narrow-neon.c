// NEON narrow deconvolution row: per output pixel, 4 taps x cin channels (4 per q register)
// dotted with up to 4 weight vectors, accumulators in registers (one function per channel count).
#if defined(__aarch64__)
#include "../common/gk_internal.h"
#include <arm_neon.h>

#define GK_NARROW_ROW_NEON(COUT)                                                                 \
  static void narrow_row_neon_##COUT(int h, int w, int cin, const float *x_img,                  \
                                     const float *packed, const float *bias, int act, int oy,    \
                                     float *y_row, uint8_t *u8_row) {                            \
    int a = oy & 1, i = oy >> 1;                                                                 \
    int cvec = cin & ~3;                                                                         \
    for (int ox = 0; ox < 2 * w; ox++) {                                                         \
      int b = ox & 1, j = ox >> 1, phase = a * 2 + b;                                            \
      float32x4_t acc[COUT];                                                                     \
      float tail[COUT];                                                                          \
      for (int co = 0; co < COUT; co++) { acc[co] = vdupq_n_f32(0); tail[co] = 0.0f; }           \
      for (int t = 0; t < 4; t++) {                                                              \
        int iy = i + a - 1 + (t >> 1), ix = j + b - 1 + (t & 1);                                 \
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;                                    \
        const float *xp = x_img + ((size_t)iy * w + ix) * cin;                                   \
        const float *wp = packed + ((size_t)phase * 4 + t) * COUT * cin;                         \
        for (int ci = 0; ci < cvec; ci += 4) {                                                   \
          float32x4_t xv = vld1q_f32(xp + ci);                                                   \
          for (int co = 0; co < COUT; co++)                                                      \
            acc[co] = vfmaq_f32(acc[co], xv, vld1q_f32(wp + (size_t)co * cin + ci));             \
        }                                                                                        \
        for (int ci = cvec; ci < cin; ci++)                                                      \
          for (int co = 0; co < COUT; co++) tail[co] += xp[ci] * wp[(size_t)co * cin + ci];      \
      }                                                                                          \
      for (int co = 0; co < COUT; co++) {                                                        \
        float v = vaddvq_f32(acc[co]) + tail[co] + (bias ? bias[co] : 0.0f);                     \
        v = gk_act_apply(v, act, 0.2f);                                                          \
        y_row[(size_t)ox * COUT + co] = v;                                                       \
        if (u8_row) u8_row[(size_t)ox * COUT + co] = gk_to_u8(v);                                \
      }                                                                                          \
    }                                                                                            \
  }

GK_NARROW_ROW_NEON(1)
GK_NARROW_ROW_NEON(2)
GK_NARROW_ROW_NEON(3)
GK_NARROW_ROW_NEON(4)

void gk_f32_deconv4s2_narrow_row__neon(int h, int w, int cin, int cout, const float *x_img,
                                       const float *packed, const float *bias, int act, int oy,
                                       float *y_row, uint8_t *u8_row) {
  switch (cout) {
    case 1: narrow_row_neon_1(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
    case 2: narrow_row_neon_2(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
    case 3: narrow_row_neon_3(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
    default: narrow_row_neon_4(h, w, cin, x_img, packed, bias, act, oy, y_row, u8_row); break;
  }
}
#endif
