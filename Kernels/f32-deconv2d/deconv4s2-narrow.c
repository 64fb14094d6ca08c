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

// MARK: - Weight gradient of a narrow layer (cout <= GK_NARROW_MAX_COUT: the generator's image layer)
//
// dW[ky][kx][ci][co] = sum over input pixels (img, i, j) of x[img, i, j, ci] * dy[img, 2i-1+ky,
// 2j-1+kx, co]. As a GEMM (k = the pixels) it packs a 4x im2col of x per phase for a product of
// only cout columns: the packing costs more than the arithmetic. Here each input pixel's channel
// row is read once and multiplied into its taps' accumulators ([tap][co][ci], 16 * cout * cin
// floats, in L1; the loop over ci vectorizes), one accumulator block per group of images (at most
// 64 groups of consecutive images, split over threads), then the blocks are summed in order: the
// result depends on the batch, never on the thread count.
typedef struct narrow_bw_args {
  int n, h, w, cin, cout, accumulate;
  const float *x, *dy;
  float *dw, *part;  // part: one block of 16 * cout * cin floats per group
} narrow_bw_args;

enum { NARROW_BW_GROUPS = 64 };
static int narrow_bw_groups(int n) { return n < NARROW_BW_GROUPS ? n : NARROW_BW_GROUPS; }

// Adds image img's products into acc.
static void narrow_bw_image(const narrow_bw_args *a, int img, float *acc) {
  const int cin = a->cin, cout = a->cout, oh = 2 * a->h, ow = 2 * a->w;
  const float *x = a->x + (size_t)img * a->h * a->w * cin, *dy = a->dy + (size_t)img * oh * ow * cout;
  for (int i = 0; i < a->h; i++)
    for (int j = 0; j < a->w; j++) {
      const float *xr = x + ((size_t)i * a->w + j) * cin;
      for (int ky = 0; ky < 4; ky++) {
        int oy = 2 * i - 1 + ky;
        if (oy < 0 || oy >= oh) continue;
        for (int kx = 0; kx < 4; kx++) {
          int ox = 2 * j - 1 + kx;
          if (ox < 0 || ox >= ow) continue;
          const float *d = dy + ((size_t)oy * ow + ox) * cout;
          float *at = acc + (size_t)(ky * 4 + kx) * cout * cin;
          for (int co = 0; co < cout; co++) {
            float s = d[co], *ac = at + (size_t)co * cin;
            for (int c = 0; c < cin; c++) ac[c] += s * xr[c];
          }
        }
      }
    }
}

static void narrow_bw_body(void *ctx, int tid, int nth) {
  const narrow_bw_args *a = (const narrow_bw_args *)ctx;
  const int groups = narrow_bw_groups(a->n), per = (a->n + groups - 1) / groups;
  const size_t block = (size_t)16 * a->cout * a->cin;
  for (int g = tid; g < groups; g += nth) {
    float *acc = a->part + (size_t)g * block;
    memset(acc, 0, block * sizeof(float));
    for (int img = g * per; img < a->n && img < (g + 1) * per; img++) narrow_bw_image(a, img, acc);
  }
  gk_barrier(nth);
  // dw rows (tap, ci) split over threads; each sums the groups' blocks in order.
  for (int row = tid; row < 16 * a->cin; row += nth) {
    int t = row / a->cin, ci = row % a->cin;
    for (int co = 0; co < a->cout; co++) {
      const float *p = a->part + ((size_t)t * a->cout + co) * a->cin + ci;
      float s = a->accumulate ? a->dw[(size_t)row * a->cout + co] : 0.0f;
      for (int g = 0; g < groups; g++) s += p[(size_t)g * block];
      a->dw[(size_t)row * a->cout + co] = s;
    }
  }
}

size_t gk_f32_deconv4s2_narrow_backward_weights_bytes(int n, int cin, int cout) {
  return (size_t)narrow_bw_groups(n) * 16 * cout * cin * sizeof(float) + 64;
}

void gk_f32_deconv4s2_narrow_backward_weights(int n, int h, int w, int cin, int cout, const float *x,
                                              const float *dy, float *dw, int accumulate, void *workspace,
                                              int threads) {
  if (n < 1) return;
  float *part = (float *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  narrow_bw_args a = {n, h, w, cin, cout, accumulate, x, dy, dw, part};
  gk_run_parallel(threads, narrow_bw_body, &a);
}
