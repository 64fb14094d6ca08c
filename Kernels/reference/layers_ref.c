// Scalar references: the definitions, written as plainly as possible. Test oracles and fallbacks.
#include "../common/gk_internal.h"

// Applies the epilogue to one output row that starts at element offset `off` of the output.
static void epilogue_ref(float *out, size_t off, size_t ncols, const gk_epilogue *ep) {
  if (!ep) return;
  float *row = out + off;
  for (size_t c = 0; c < ncols; c++) {
    float v = row[c];
    if (ep->bias) v += ep->bias[c];
    v = gk_act_apply(v, ep->act, ep->slope);
    row[c] = v;
    if (ep->u8) ep->u8[off + c] = gk_to_u8(v);
    if (ep->col_sum) {
      ep->col_sum[c] += v;
      ep->col_sumsq[c] += (double)v * v;
    }
  }
}

void gk_f32_gemm_ref(size_t m, size_t n, size_t k, const gk_operand *a, const gk_operand *b,
                     const gk_output *c, const gk_epilogue *ep) {
  int accumulate = ep && ep->accumulate;
  for (size_t i = 0; i < m; i++) {
    size_t off = gk_rowmap_off(&c->rows, i);
    float *row = c->data + off;
    for (size_t j = 0; j < n; j++) {
      float acc = 0.0f;
      for (size_t p = 0; p < k; p++) acc += gk_operand_at(a, i, p) * gk_operand_at(b, p, j);
      row[j] = accumulate ? row[j] + acc : acc;
    }
    epilogue_ref(c->data, off, n, ep);
  }
}

// out[n, oy, ox, co] += x[n, iy, ix, ci] * W[ky, kx, ci, co] with oy = 2*iy - 1 + ky.
void gk_f32_deconv4s2_forward_ref(int n, int h, int w, int cin, int cout, const float *x,
                                  const float *wgt, const gk_epilogue *ep, float *y) {
  int oh = 2 * h, ow = 2 * w;
  size_t total = (size_t)n * oh * ow * cout;
  if (!(ep && ep->accumulate))
    for (size_t i = 0; i < total; i++) y[i] = 0.0f;
  for (int img = 0; img < n; img++)
    for (int iy = 0; iy < h; iy++)
      for (int ix = 0; ix < w; ix++)
        for (int ky = 0; ky < 4; ky++)
          for (int kx = 0; kx < 4; kx++) {
            int oy = 2 * iy - 1 + ky, ox = 2 * ix - 1 + kx;
            if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
            float *out = y + (((size_t)img * oh + oy) * ow + ox) * cout;
            const float *in = x + (((size_t)img * h + iy) * w + ix) * cin;
            for (int ci = 0; ci < cin; ci++) {
              const float *wr = wgt + ((size_t)(ky * 4 + kx) * cin + ci) * cout;
              for (int co = 0; co < cout; co++) out[co] += in[ci] * wr[co];
            }
          }
  for (size_t p = 0; p < (size_t)n * oh * ow; p++) epilogue_ref(y, p * cout, cout, ep);
}

void gk_f32_deconv4s2_backward_data_ref(int n, int h, int w, int cin, int cout, const float *dy,
                                        const float *wgt, float *dx) {
  int oh = 2 * h, ow = 2 * w;
  for (int img = 0; img < n; img++)
    for (int iy = 0; iy < h; iy++)
      for (int ix = 0; ix < w; ix++)
        for (int ci = 0; ci < cin; ci++) {
          float acc = 0.0f;
          for (int ky = 0; ky < 4; ky++)
            for (int kx = 0; kx < 4; kx++) {
              int oy = 2 * iy - 1 + ky, ox = 2 * ix - 1 + kx;
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
              const float *g = dy + (((size_t)img * oh + oy) * ow + ox) * cout;
              const float *wr = wgt + ((size_t)(ky * 4 + kx) * cin + ci) * cout;
              for (int co = 0; co < cout; co++) acc += g[co] * wr[co];
            }
          dx[(((size_t)img * h + iy) * w + ix) * cin + ci] = acc;
        }
}

void gk_f32_deconv4s2_backward_weights_ref(int n, int h, int w, int cin, int cout,
                                           const float *x, const float *dy, float *dw,
                                           int accumulate) {
  int oh = 2 * h, ow = 2 * w;
  for (int t = 0; t < 16; t++) {
    int ky = t / 4, kx = t % 4;
    for (int ci = 0; ci < cin; ci++)
      for (int co = 0; co < cout; co++) {
        float acc = 0.0f;
        for (int img = 0; img < n; img++)
          for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++) {
              int oy = 2 * iy - 1 + ky, ox = 2 * ix - 1 + kx;
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
              acc += x[(((size_t)img * h + iy) * w + ix) * cin + ci] *
                     dy[(((size_t)img * oh + oy) * ow + ox) * cout + co];
            }
        float *d = dw + ((size_t)t * cin + ci) * cout + co;
        *d = accumulate ? *d + acc : acc;
      }
  }
}

// y[n, oy, ox, co] = sum x[n, 2*oy - 1 + ky, 2*ox - 1 + kx, ci] * W[ky, kx, ci, co].
void gk_f32_conv4s2_forward_ref(int n, int h, int w, int cin, int cout, const float *x,
                                const float *wgt, const gk_epilogue *ep, float *y) {
  int oh = h / 2, ow = w / 2;
  for (int img = 0; img < n; img++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        float *out = y + (((size_t)img * oh + oy) * ow + ox) * cout;
        for (int co = 0; co < cout; co++) {
          float acc = 0.0f;
          for (int ky = 0; ky < 4; ky++)
            for (int kx = 0; kx < 4; kx++) {
              int iy = 2 * oy - 1 + ky, ix = 2 * ox - 1 + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const float *in = x + (((size_t)img * h + iy) * w + ix) * cin;
              for (int ci = 0; ci < cin; ci++)
                acc += in[ci] * wgt[((size_t)(ky * 4 + kx) * cin + ci) * cout + co];
            }
          out[co] = (ep && ep->accumulate) ? out[co] + acc : acc;
        }
        epilogue_ref(y, (size_t)(out - y), cout, ep);
      }
}

void gk_f32_conv4s2_backward_data_ref(int n, int h, int w, int cin, int cout, const float *dy,
                                      const float *wgt, float *dx) {
  int oh = h / 2, ow = w / 2;
  for (size_t i = 0; i < (size_t)n * h * w * cin; i++) dx[i] = 0.0f;
  for (int img = 0; img < n; img++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int ky = 0; ky < 4; ky++)
          for (int kx = 0; kx < 4; kx++) {
            int iy = 2 * oy - 1 + ky, ix = 2 * ox - 1 + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const float *g = dy + (((size_t)img * oh + oy) * ow + ox) * cout;
            float *d = dx + (((size_t)img * h + iy) * w + ix) * cin;
            for (int ci = 0; ci < cin; ci++) {
              const float *wr = wgt + ((size_t)(ky * 4 + kx) * cin + ci) * cout;
              float acc = 0.0f;
              for (int co = 0; co < cout; co++) acc += g[co] * wr[co];
              d[ci] += acc;
            }
          }
}

void gk_f32_conv4s2_backward_weights_ref(int n, int h, int w, int cin, int cout, const float *x,
                                         const float *dy, float *dw, int accumulate) {
  int oh = h / 2, ow = w / 2;
  for (int t = 0; t < 16; t++) {
    int ky = t / 4, kx = t % 4;
    for (int ci = 0; ci < cin; ci++)
      for (int co = 0; co < cout; co++) {
        float acc = 0.0f;
        for (int img = 0; img < n; img++)
          for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
              int iy = 2 * oy - 1 + ky, ix = 2 * ox - 1 + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              acc += x[(((size_t)img * h + iy) * w + ix) * cin + ci] *
                     dy[(((size_t)img * oh + oy) * ow + ox) * cout + co];
            }
        float *d = dw + ((size_t)t * cin + ci) * cout + co;
        *d = accumulate ? *d + acc : acc;
      }
  }
}

void gk_f32_dense_forward_ref(int n, int kin, int kout, const float *x, const float *wgt,
                              const gk_epilogue *ep, float *y) {
  for (int i = 0; i < n; i++) {
    float *out = y + (size_t)i * kout;
    for (int j = 0; j < kout; j++) {
      float acc = 0.0f;
      for (int p = 0; p < kin; p++) acc += x[(size_t)i * kin + p] * wgt[(size_t)p * kout + j];
      out[j] = (ep && ep->accumulate) ? out[j] + acc : acc;
    }
    epilogue_ref(y, (size_t)i * kout, kout, ep);
  }
}

void gk_f32_dense_backward_data_ref(int n, int kin, int kout, const float *dy, const float *wgt,
                                    float *dx) {
  for (int i = 0; i < n; i++)
    for (int p = 0; p < kin; p++) {
      float acc = 0.0f;
      for (int j = 0; j < kout; j++) acc += dy[(size_t)i * kout + j] * wgt[(size_t)p * kout + j];
      dx[(size_t)i * kin + p] = acc;
    }
}

void gk_f32_dense_backward_weights_ref(int n, int kin, int kout, const float *x, const float *dy,
                                       float *dw, int accumulate) {
  for (int p = 0; p < kin; p++)
    for (int j = 0; j < kout; j++) {
      float acc = 0.0f;
      for (int i = 0; i < n; i++) acc += x[(size_t)i * kin + p] * dy[(size_t)i * kout + j];
      float *d = dw + (size_t)p * kout + j;
      *d = accumulate ? *d + acc : acc;
    }
}

// Narrow deconvolution reference: the scatter definition over the packed [phase][tap][co][ci]
// weights, with double accumulation (an oracle independent of the optimized summation order).
void gk_f32_deconv4s2_narrow_forward_ref(int n, int h, int w, int cin, int cout, const float *x,
                                         const float *packed, const float *bias, int act, float *y,
                                         uint8_t *u8) {
  for (int img = 0; img < n; img++)
    for (int oy = 0; oy < 2 * h; oy++)
      for (int ox = 0; ox < 2 * w; ox++) {
        int a = oy & 1, b = ox & 1, phase = a * 2 + b;
        for (int co = 0; co < cout; co++) {
          double acc = bias ? bias[co] : 0.0;
          for (int t = 0; t < 4; t++) {
            int iy = (oy >> 1) + a - 1 + (t >> 1), ix = (ox >> 1) + b - 1 + (t & 1);
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (int ci = 0; ci < cin; ci++)
              acc += (double)x[(((size_t)img * h + iy) * w + ix) * cin + ci] *
                     packed[(((size_t)phase * 4 + t) * cout + co) * cin + ci];
          }
          float v = gk_act_apply((float)acc, act, 0.2f);
          size_t o = (((size_t)img * 2 * h + oy) * 2 * w + ox) * cout + co;
          y[o] = v;
          if (u8) u8[o] = gk_to_u8(v);
        }
      }
}
