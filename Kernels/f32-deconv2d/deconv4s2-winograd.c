// Winograd F(2x2, 2x2) on the four phase convolutions of ConvTranspose2d(4, 2, 1) (inference).
// Phase (a, b) is a 2x2 correlation: out[i][j] = sum_{ty,tx} x[i + a - 1 + ty][j + b - 1 + tx] .
// g[ty][tx]. With interpolation points {0, 1, inf} the transforms are additions only:
//   B^T = [[1,-1,0],[0,1,0],[0,-1,1]], G = [[1,0],[1,1],[0,1]], A^T = [[1,1,0],[0,1,1]]:
// 9 multiplications per 2x2 output tile and channel pair instead of 16 (1.78x fewer).
// Per phase: input transform into V[9][tiles][cin], 9 GEMMs V[xi] x U[xi] (U packed once),
// output transform fused with bias and activation. Requires even h and w.
#include "../common/gk_internal.h"

static size_t round_up64(size_t x) { return (x + 63) / 64 * 64; }

size_t gk_f32_deconv4s2_wino2_packed_floats(int cin, int cout) {
  return 4 * 9 * gk_f32_gemm_packed_b_floats((size_t)cin, (size_t)cout);
}

void gk_f32_deconv4s2_wino2_pack_weights(int cin, int cout, const float *wgt, float *packed,
                                         float *scratch) {
  // scratch: 9 * cin * cout floats (the transformed kernels of one phase before packing).
  size_t per = gk_f32_gemm_packed_b_floats((size_t)cin, (size_t)cout), cc = (size_t)cin * cout;
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    const float *g[2][2];
    for (int ty = 0; ty < 2; ty++)
      for (int tx = 0; tx < 2; tx++) {
        int ry = a - 1 + ty, rx = b - 1 + tx;
        int ky = 1 + a - 2 * ry, kx = 1 + b - 2 * rx;
        g[ty][tx] = wgt + (size_t)(ky * 4 + kx) * cc;
      }
    for (size_t e = 0; e < cc; e++) {
      float g00 = g[0][0][e], g01 = g[0][1][e], g10 = g[1][0][e], g11 = g[1][1][e];
      // U = G g G^T, rows (g0, g0 + g1, g1) then the same over columns.
      float r[3][2] = {{g00, g01}, {g00 + g10, g01 + g11}, {g10, g11}};
      for (int i = 0; i < 3; i++) {
        scratch[(size_t)(i * 3 + 0) * cc + e] = r[i][0];
        scratch[(size_t)(i * 3 + 1) * cc + e] = r[i][0] + r[i][1];
        scratch[(size_t)(i * 3 + 2) * cc + e] = r[i][1];
      }
    }
    for (int xi = 0; xi < 9; xi++) {
      gk_operand B = gk_operand_matrix(scratch + (size_t)xi * cc, (size_t)cout);
      gk_f32_gemm_pack_b(&B, (size_t)cin, (size_t)cout, packed + ((size_t)phase * 9 + xi) * per);
    }
  }
}

size_t gk_f32_deconv4s2_wino2_workspace_bytes(int n, int h, int w, int cin, int cout, int threads) {
  size_t tiles = (size_t)n * (h / 2) * (w / 2);
  return round_up64(9 * tiles * cin * sizeof(float)) + round_up64(9 * tiles * cout * sizeof(float)) +
         round_up64((size_t)cin * sizeof(float)) + gk_f32_gemm_workspace_bytes(tiles, cout, cin, threads) + 64;
}

typedef struct wino_args {
  int n, h, w, cin, cout, a, b;
  const float *x;
  const float *zeros;  // cin zeros: the patch rows outside the image
  float *v;         // [9][tiles][cin]
  const float *m;   // [9][tiles][cout]
  const gk_epilogue *ep;
  float *y;
} wino_args;

// V = B^T d B for each tile; d is the 3x3 input patch (zero outside the image).
static void input_transform(void *ctx, int tid, int nth) {
  const wino_args *g = (const wino_args *)ctx;
  int th = g->h / 2, tw = g->w / 2, c = g->cin;
  size_t tiles = (size_t)g->n * th * tw;
  size_t per = (tiles + nth - 1) / nth, t0 = (size_t)tid * per, t1 = t0 + per < tiles ? t0 + per : tiles;
  for (size_t t = t0; t < t1; t++) {
    int img = (int)(t / ((size_t)th * tw)), rem = (int)(t % ((size_t)th * tw));
    int ti = rem / tw, tj = rem % tw;
    const float *row[3][3];
    for (int r = 0; r < 3; r++)
      for (int q = 0; q < 3; q++) {
        int iy = 2 * ti + g->a - 1 + r, ix = 2 * tj + g->b - 1 + q;
        row[r][q] = (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                        ? g->zeros
                        : g->x + (((size_t)img * g->h + iy) * g->w + ix) * c;
      }
    float *out[9];
    for (int xi = 0; xi < 9; xi++) out[xi] = g->v + ((size_t)xi * tiles + t) * c;
    // Branch-free over channels (border taps read the zero row), so the loop vectorizes.
    const float *d00 = row[0][0], *d01 = row[0][1], *d02 = row[0][2];
    const float *d10 = row[1][0], *d11 = row[1][1], *d12 = row[1][2];
    const float *d20 = row[2][0], *d21 = row[2][1], *d22 = row[2][2];
    float *o0 = out[0], *o1 = out[1], *o2 = out[2], *o3 = out[3], *o4 = out[4], *o5 = out[5];
    float *o6 = out[6], *o7 = out[7], *o8 = out[8];
    for (int ci = 0; ci < c; ci++) {
      // B^T d: rows (d0 - d1, d1, d2 - d1); then (B^T d) B over columns the same way.
      float s00 = d00[ci] - d10[ci], s01 = d01[ci] - d11[ci], s02 = d02[ci] - d12[ci];
      float s10 = d10[ci], s11 = d11[ci], s12 = d12[ci];
      float s20 = d20[ci] - d10[ci], s21 = d21[ci] - d11[ci], s22 = d22[ci] - d12[ci];
      o0[ci] = s00 - s01; o1[ci] = s01; o2[ci] = s02 - s01;
      o3[ci] = s10 - s11; o4[ci] = s11; o5[ci] = s12 - s11;
      o6[ci] = s20 - s21; o7[ci] = s21; o8[ci] = s22 - s21;
    }
  }
}

// Y = A^T M A per tile and output channel, + bias, activation, into the phase's output pixels.
static void output_transform(void *ctx, int tid, int nth) {
  const wino_args *g = (const wino_args *)ctx;
  int th = g->h / 2, tw = g->w / 2, co = g->cout, ow = 2 * g->w;
  size_t tiles = (size_t)g->n * th * tw;
  const float *bias = g->ep ? g->ep->bias : NULL;
  int act = g->ep ? g->ep->act : GK_ACT_NONE;
  float slope = g->ep ? g->ep->slope : 0.0f;
  uint8_t *u8 = g->ep ? g->ep->u8 : NULL;
  size_t per = (tiles + nth - 1) / nth, t0 = (size_t)tid * per, t1 = t0 + per < tiles ? t0 + per : tiles;
  for (size_t t = t0; t < t1; t++) {
    int img = (int)(t / ((size_t)th * tw)), rem = (int)(t % ((size_t)th * tw));
    int ti = rem / tw, tj = rem % tw;
    const float *m[9];
    for (int xi = 0; xi < 9; xi++) m[xi] = g->m + ((size_t)xi * tiles + t) * co;
    size_t off[2][2];
    for (int p = 0; p < 2; p++)
      for (int q = 0; q < 2; q++) {
        int oy = 2 * (2 * ti + p) + g->a, ox = 2 * (2 * tj + q) + g->b;
        off[p][q] = (((size_t)img * 2 * g->h + oy) * ow + ox) * co;
      }
    float *y00 = g->y + off[0][0], *y01 = g->y + off[0][1], *y10 = g->y + off[1][0], *y11 = g->y + off[1][1];
    for (int c = 0; c < co; c++) {
      // A^T M: rows (m0 + m1, m1 + m2), then the same over columns; plus bias.
      float bv = bias ? bias[c] : 0.0f;
      float r00 = m[0][c] + m[3][c], r01 = m[1][c] + m[4][c], r02 = m[2][c] + m[5][c];
      float r10 = m[3][c] + m[6][c], r11 = m[4][c] + m[7][c], r12 = m[5][c] + m[8][c];
      y00[c] = r00 + r01 + bv; y01[c] = r01 + r02 + bv;
      y10[c] = r10 + r11 + bv; y11[c] = r11 + r12 + bv;
    }
    // Activation and pixels as separate tight loops (a per-element switch would not vectorize).
    float *rows4[4] = {y00, y01, y10, y11};
    for (int k = 0; k < 4; k++) {
      float *yr = rows4[k];
      if (act == GK_ACT_RELU) {
        for (int c = 0; c < co; c++) yr[c] = yr[c] > 0 ? yr[c] : 0.0f;
      } else if (act == GK_ACT_LRELU) {
        for (int c = 0; c < co; c++) yr[c] = yr[c] > 0 ? yr[c] : yr[c] * slope;
      } else if (act == GK_ACT_TANH) {
        for (int c = 0; c < co; c++) yr[c] = gk_tanhf_inline(yr[c]);
      }
      if (u8) {
        uint8_t *px = u8 + (size_t)(yr - g->y);
        for (int c = 0; c < co; c++) px[c] = gk_to_u8(yr[c]);
      }
    }
  }
}

void gk_f32_deconv4s2_wino2_forward(int n, int h, int w, int cin, int cout, const float *x,
                                    const float *packed, const gk_epilogue *ep, float *y,
                                    void *workspace, int threads) {
  size_t tiles = (size_t)n * (h / 2) * (w / 2);
  char *ws = (char *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  float *v = (float *)ws;
  float *m = (float *)(ws + round_up64(9 * tiles * cin * sizeof(float)));
  float *zeros = (float *)((char *)m + round_up64(9 * tiles * cout * sizeof(float)));
  memset(zeros, 0, (size_t)cin * sizeof(float));
  void *gemm_ws = (char *)zeros + round_up64((size_t)cin * sizeof(float));
  size_t per = gk_f32_gemm_packed_b_floats((size_t)cin, (size_t)cout);
  int nr = gk_gemm_variant_at(gk_gemm_selected_variant())->nr;
  for (int phase = 0; phase < 4; phase++) {
    wino_args g = {n, h, w, cin, cout, phase >> 1, phase & 1, x, zeros, v, m, ep, y};
    gk_run_parallel(threads, input_transform, &g);
    for (int xi = 0; xi < 9; xi++) {
      gk_operand A = gk_operand_matrix(v + (size_t)xi * tiles * cin, (size_t)cin);
      gk_operand B;
      memset(&B, 0, sizeof B);
      B.kind = GK_OPERAND_PACKED;
      B.data = packed + ((size_t)phase * 9 + xi) * per;
      B.packed_k = (size_t)cin; B.packed_n = (size_t)cout; B.packed_nr = nr;
      gk_output C = gk_output_dense(m + (size_t)xi * tiles * cout, (size_t)cout);
      gk_f32_gemm(tiles, cout, cin, &A, &B, &C, NULL, gemm_ws, threads);
    }
    gk_run_parallel(threads, output_transform, &g);
  }
}
