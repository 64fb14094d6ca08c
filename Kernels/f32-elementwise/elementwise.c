// Dispatch of the C streaming passes to the variant chosen at start-up (common/cpu.c).
#include "../common/gk_internal.h"

void gk_f32_bn_apply(size_t rows, size_t c, const float *x, const float *scale, const float *shift,
                     int act, float slope, float *y) {
  gk_config()->elementwise->bn_apply(rows, c, x, scale, shift, act, slope, y);
}

void gk_f32_act_backward(size_t count, const float *y, const float *dy, float slope, float *dx) {
  gk_config()->elementwise->act_backward(count, y, dy, slope, dx);
}

void gk_f32_tanh_backward(size_t count, const float *y, const float *dy, float *dx) {
  gk_config()->elementwise->tanh_backward(count, y, dy, dx);
}
