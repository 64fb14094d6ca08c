// Direct int8 layer reference: quantize the input as the kernels do, sum exactly in int32 over
// the unpacked weights, then the same fp32 epilogue. The oracle for gk_q8_run.
#include "../q8-gemm/q8_internal.h"

static int32_t input_code(const gk_q8_layer *l, size_t off) {
  if (l->x_u8) return l->x_u8[off];
  float lo = l->x_signed ? -127.0f : 0.0f, hi = l->x_signed ? 127.0f : 255.0f;
  return gk_q8_quantize_one(l->x_f32[off], l->x_inv_scale, lo, hi);
}

static void store(const gk_q8_layer *l, size_t off, int co, int32_t acc) {
  switch (l->out) {
    case GK_Q8_OUT_U8: l->y_u8[off] = gk_q8_requant_one(acc, l->mult[co], l->bias[co]); break;
    case GK_Q8_OUT_F32_RELU: {
      float y = fmaf((float)acc, l->mult[co], l->bias[co]);
      l->y_f32[off] = y > 0 ? y : 0.0f;
      break;
    }
    case GK_Q8_OUT_F32: l->y_f32[off] = fmaf((float)acc, l->mult[co], l->bias[co]); break;
    default: {
      float y = gk_tanhf_inline(fmaf((float)acc, l->mult[co], l->bias[co]));
      if (l->y_f32) l->y_f32[off] = y;
      if (l->pixels) l->pixels[off] = gk_to_u8(y);
    }
  }
}

void gk_q8_layer_ref(const gk_q8_layer *l, const int8_t *wgt) {
  int cin = l->cin, cout = l->cout;
  if (l->kind == GK_Q8_DENSE) {
    for (int r = 0; r < l->n; r++)
      for (int co = 0; co < cout; co++) {
        int32_t acc = 0;
        for (int k = 0; k < cin; k++)
          acc += input_code(l, (size_t)r * cin + k) * wgt[(size_t)k * cout + co];
        store(l, (size_t)r * cout + co, co, acc);
      }
    return;
  }
  // Output (oy, ox) gathers input (iy, ix) through kernel (ky, kx) when oy = 2 iy - 1 + ky.
  int oh = 2 * l->h, ow = 2 * l->w;
  for (int img = 0; img < l->n; img++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int co = 0; co < cout; co++) {
          int32_t acc = 0;
          for (int ky = 0; ky < 4; ky++) {
            int ty = oy + 1 - ky;
            if (ty < 0 || (ty & 1) || ty / 2 >= l->h) continue;
            for (int kx = 0; kx < 4; kx++) {
              int tx = ox + 1 - kx;
              if (tx < 0 || (tx & 1) || tx / 2 >= l->w) continue;
              size_t in = (((size_t)img * l->h + ty / 2) * l->w + tx / 2) * cin;
              for (int ci = 0; ci < cin; ci++)
                acc += input_code(l, in + ci) * wgt[((size_t)ci * cout + co) * 16 + ky * 4 + kx];
            }
          }
          store(l, (((size_t)img * oh + oy) * ow + ox) * cout + co, co, acc);
        }
}
