// Narrow ConvTranspose2d(4, 2, 1) driver: rows of output split over threads by hand (no
// worksharing loop: Debian's libomp allocates in those), each row by the selected variant.
// Output pixel (oy, ox) = phase (oy & 1, ox & 1) of input position (oy >> 1, ox >> 1); its taps
// are input rows i + a - 1 + ty, columns j + b - 1 + tx (ty, tx in {0, 1}).
#include "../common/gk_internal.h"

size_t gk_f32_deconv4s2_narrow_floats(int cin, int cout) { return (size_t)16 * cin * cout; }

void gk_f32_deconv4s2_narrow_pack(int cin, int cout, const float *wgt, float *packed) {
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    for (int t = 0; t < 4; t++) {
      int ry = a - 1 + (t >> 1), rx = b - 1 + (t & 1);
      int ky = 1 + a - 2 * ry, kx = 1 + b - 2 * rx;
      for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
          packed[(((size_t)phase * 4 + t) * cout + co) * cin + ci] =
              wgt[((size_t)(ky * 4 + kx) * cin + ci) * cout + co];
    }
  }
}

void gk_f32_deconv4s2_narrow_pack_torch(int cin, int cout, const float *torch_wgt,
                                        const float *col_scale, float *packed) {
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    for (int t = 0; t < 4; t++) {
      int ry = a - 1 + (t >> 1), rx = b - 1 + (t & 1);
      int ky = 1 + a - 2 * ry, kx = 1 + b - 2 * rx;
      for (int co = 0; co < cout; co++) {
        float s = col_scale ? col_scale[co] : 1.0f;
        for (int ci = 0; ci < cin; ci++)
          packed[(((size_t)phase * 4 + t) * cout + co) * cin + ci] =
              torch_wgt[((size_t)ci * cout + co) * 16 + ky * 4 + kx] * s;
      }
    }
  }
}

// The scalar row kernel: also the reference's arithmetic (same order of summation).
void gk_f32_deconv4s2_narrow_row__scalar(int h, int w, int cin, int cout, const float *x_img,
                                        const float *packed, const float *bias, int act, int oy,
                                        float *y_row, uint8_t *u8_row) {
  int a = oy & 1, i = oy >> 1;
  for (int ox = 0; ox < 2 * w; ox++) {
    int b = ox & 1, j = ox >> 1, phase = a * 2 + b;
    float acc[GK_NARROW_MAX_COUT] = {0, 0, 0, 0};
    for (int t = 0; t < 4; t++) {
      int iy = i + a - 1 + (t >> 1), ix = j + b - 1 + (t & 1);
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const float *xp = x_img + ((size_t)iy * w + ix) * cin;
      for (int co = 0; co < cout; co++) {
        const float *wp = packed + (((size_t)phase * 4 + t) * cout + co) * cin;
        float s = 0.0f;
        for (int ci = 0; ci < cin; ci++) s += xp[ci] * wp[ci];
        acc[co] += s;
      }
    }
    for (int co = 0; co < cout; co++) {
      float v = gk_act_apply(acc[co] + (bias ? bias[co] : 0.0f), act, 0.2f);
      y_row[(size_t)ox * cout + co] = v;
      if (u8_row) u8_row[(size_t)ox * cout + co] = gk_to_u8(v);
    }
  }
}

void gk_f32_deconv4s2_narrow_rows(const gk_narrow_args *g, int tid, int nth) {
  gk_narrow_row_fn row = gk_config()->narrow->row;
  int rows = g->n * 2 * g->h;
  size_t out_row = (size_t)2 * g->w * g->cout, in_img = (size_t)g->h * g->w * g->cin;
  // Contiguous blocks of rows per thread (better locality than round-robin).
  int per = (rows + nth - 1) / nth, r0 = tid * per, r1 = r0 + per < rows ? r0 + per : rows;
  for (int r = r0; r < r1; r++)
    row(g->h, g->w, g->cin, g->cout, g->x + (size_t)(r / (2 * g->h)) * in_img, g->packed, g->bias,
        g->act, r % (2 * g->h), g->y + (size_t)r * out_row, g->u8 ? g->u8 + (size_t)r * out_row : NULL);
}

static void narrow_body(void *ctx, int tid, int nth) {
  gk_f32_deconv4s2_narrow_rows((const gk_narrow_args *)ctx, tid, nth);
}

void gk_f32_deconv4s2_narrow_forward(int n, int h, int w, int cin, int cout, const float *x,
                                     const float *packed, const float *bias, int act, float *y,
                                     uint8_t *u8, int threads) {
  gk_narrow_args g = {n, h, w, cin, cout, x, packed, bias, act, y, u8};
  gk_run_parallel(n * 2 * h < 2 ? 1 : threads, narrow_body, &g);
}
