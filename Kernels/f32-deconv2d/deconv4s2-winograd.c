// Winograd F(2x2, 2x2) and F(4x4, 2x2) on the four phase convolutions of ConvTranspose2d(4, 2, 1).
// Phase (a, b) is a 2x2 correlation: out[i][j] = sum_{ty,tx} x[i + a - 1 + ty][j + b - 1 + tx] .
// g[ty][tx]. A tile of T x T phase outputs reads an alpha x alpha input patch (alpha = T + 1);
// per tile and channel pair it costs alpha^2 multiplications instead of 4 T^2: 9 against 16
// (1.78x fewer) for T = 2, 25 against 64 (2.56x) for T = 4.
//   T = 2, points {0, 1, inf}: B^T = [[1,-1,0],[0,1,0],[0,-1,1]], G = [[1,0],[1,1],[0,1]],
//     A^T = [[1,1,0],[0,1,1]]: additions only.
//   T = 4, points {0, 1, -1, 2, inf} (Toom-Cook, rows of B^T scaled to integers, G divided back):
//     B^T = [[2,-1,-2,1,0],[0,2,1,-1,0],[0,-2,3,-1,0],[0,-1,0,1,0],[0,2,-1,-2,1]],
//     G = [[1/2,0],[1/2,1/2],[1/6,-1/6],[1/6,1/3],[0,1]],
//     A^T = [[1,1,1,1,0],[0,1,-1,2,0],[0,1,1,4,0],[0,1,-1,8,1]].
//   Of the point sets {0,1,-1,x,inf}, x in {2, 1/2, -2, -1/2} measured alike in fp32 (relative
//   max error 2.6e-6 to 3.8e-6 over 256 channels); 2 keeps A^T and B^T integral.
// Per phase: input transform into V[alpha^2][tiles][cin], alpha^2 GEMMs V[xi] x U[xi] (U packed
// once per weight change), output transform fused with bias, activation, pixels and BatchNorm
// column statistics (per-tile partial sums in double, reduced over tiles in order).
// Conv2d(4, 2, 1) is the same 2x2 correlation on the space-to-depth view of its input: grid cell
// (I, J) holds the 2x2 pixels (2I - 1 + p, 2J - 1 + q), p, q in {0, 1}, as K = 4 cin channels
// ordered (p, q, c), and tap (ty, tx) of that cell is the kernel tap (2 ty + p, 2 tx + q). So one
// "phase" with K = 4 cin, an (oh + 1) x (ow + 1) grid and the output written densely.
#include "../common/gk_internal.h"

#define CB 32  // channels per block of the transforms (local buffers stay in L1)

static size_t round_up64(size_t x) { return (x + 63) / 64 * 64; }

static int alpha_of(int tile) { return tile + 1; }

size_t gk_f32_deconv4s2_winograd_packed_floats(int tile, int cin, int cout) {
  int al = alpha_of(tile);
  return 4 * (size_t)(al * al) * gk_f32_gemm_packed_b_floats((size_t)cin, (size_t)cout);
}

size_t gk_f32_conv4s2_winograd_packed_floats(int tile, int cin, int cout) {
  int al = alpha_of(tile);
  return (size_t)(al * al) * gk_f32_gemm_packed_b_floats(4 * (size_t)cin, (size_t)cout);
}

// GEMM panel geometry of the selected variant: the blocked path calls its micro-kernel directly.
static const gk_gemm_variant *gemm_variant(void) { return gk_config()->gemm; }

// Row panels (of MR tiles) per block when a pass runs in blocks (see run_blocks), or 0 for
// whole-pass matrices. A block's transformed inputs, already in the micro-kernel's A layout
// (alpha^2 x panels x K x MR floats), take at most about 256 KB of a core's L2, beside one column
// panel of every transformed weight matrix (alpha^2 x K x NR floats), which must fit 512 KB: the
// block's GEMMs run column panel by column panel, each weight panel reused over the block's rows.
// Layers whose weight panels do not fit keep the whole-pass matrices. A pass gets at least 4 blocks
// when it has the tiles (small batches keep several threads busy); the size never depends on the
// thread count.
static size_t block_panels(int tile, size_t tiles, size_t K) {
  const gk_gemm_variant *gv = gemm_variant();
  size_t a2 = (size_t)(tile + 1) * (tile + 1), mr = (size_t)gv->mr, nr = (size_t)gv->nr;
  if (a2 * K * nr * sizeof(float) > 512 * 1024) return 0;
  size_t bp = (256 * 1024) / (a2 * K * mr * sizeof(float));
  if (bp < 1) bp = 1;
  size_t panels = (tiles + mr - 1) / mr, quarter = (panels + 3) / 4;
  return quarter < bp ? (quarter ? quarter : 1) : bp;
}

// One Winograd pass: th x tw tiles per image of a grid whose cells are nsub pixels of cin channels.
typedef struct winograd_args {
  int tile, n, h, w, cin, cout;
  int conv;            // 0: deconvolution phase (a, b); 1: convolution on the space-to-depth grid
  int a, b;            // the phase (deconvolution)
  int th, tw;          // tiles per image, down and across
  int oh, ow;          // output image size
  const float *x;      // (n, h, w, cin)
  const float *zeros;  // cin zeros: the patch pixels outside the image
  float *v;            // [alpha^2][tiles][K], K = nsub * cin
  const float *m;      // [alpha^2][tiles][cout]
  const gk_epilogue *ep;
  float *y;            // (n, oh, ow, cout)
  double *partial;     // [tiles][sum | sumsq][cout] when the epilogue wants column statistics
} winograd_args;

// Per thread in blocked mode: a block's transformed inputs as micro-kernel A panels, and the
// alpha^2 MR x NR products of one row panel and column panel.
static size_t block_thread_bytes(int tile, size_t bp, size_t K) {
  const gk_gemm_variant *gv = gemm_variant();
  size_t a2 = (size_t)(tile + 1) * (tile + 1), mr = (size_t)gv->mr, nr = (size_t)gv->nr;
  return round_up64(a2 * bp * K * mr * sizeof(float)) + round_up64(a2 * mr * nr * sizeof(float));
}

static size_t winograd_workspace(int tile, size_t tiles, size_t K, int cin, int cout, int threads) {
  int al = alpha_of(tile);
  size_t a2 = (size_t)(al * al), bp = block_panels(tile, tiles, K), nth = threads > 0 ? (size_t)threads : 1;
  size_t common = round_up64((size_t)cin * sizeof(float)) + round_up64(tiles * 2 * cout * sizeof(double)) + 64;
  if (bp) return common + nth * block_thread_bytes(tile, bp, K);
  return common + round_up64(a2 * tiles * K * sizeof(float)) + round_up64(a2 * tiles * cout * sizeof(float)) +
         gk_f32_gemm_workspace_bytes(tiles, cout, K, threads);
}

size_t gk_f32_deconv4s2_winograd_workspace_bytes(int tile, int n, int h, int w, int cin, int cout, int threads) {
  return winograd_workspace(tile, (size_t)n * (h / tile) * (w / tile), (size_t)cin, cin, cout, threads);
}

size_t gk_f32_conv4s2_winograd_workspace_bytes(int tile, int n, int h, int w, int cin, int cout, int threads) {
  return winograd_workspace(tile, (size_t)n * (h / 2 / tile) * (w / 2 / tile), 4 * (size_t)cin, cin, cout, threads);
}

// One-dimensional transforms over a block of cb channels: element k of a vector at p[k * s + c].
static inline void bt2(const float *restrict d, size_t ds, float *restrict o, size_t os, int cb) {
  for (int c = 0; c < cb; c++) {
    float d0 = d[c], d1 = d[ds + c], d2 = d[2 * ds + c];
    o[c] = d0 - d1; o[os + c] = d1; o[2 * os + c] = d2 - d1;
  }
}

static inline void bt4(const float *restrict d, size_t ds, float *restrict o, size_t os, int cb) {
  for (int c = 0; c < cb; c++) {
    float d0 = d[c], d1 = d[ds + c], d2 = d[2 * ds + c], d3 = d[3 * ds + c], d4 = d[4 * ds + c];
    o[c] = 2.0f * (d0 - d2) + (d3 - d1);
    o[os + c] = 2.0f * d1 + (d2 - d3);
    o[2 * os + c] = 3.0f * d2 - 2.0f * d1 - d3;
    o[3 * os + c] = d3 - d1;
    o[4 * os + c] = 2.0f * (d1 - d3) + (d4 - d2);
  }
}

// The same over one column of the input patch, read in place: element k at d[k][c].
static inline void bt2_rows(const float *const *d, int c0, float *restrict o, size_t os, int cb) {
  const float *restrict p0 = d[0] + c0, *restrict p1 = d[1] + c0, *restrict p2 = d[2] + c0;
  for (int c = 0; c < cb; c++) {
    float d0 = p0[c], d1 = p1[c], d2 = p2[c];
    o[c] = d0 - d1; o[os + c] = d1; o[2 * os + c] = d2 - d1;
  }
}

static inline void bt4_rows(const float *const *d, int c0, float *restrict o, size_t os, int cb) {
  const float *restrict p0 = d[0] + c0, *restrict p1 = d[1] + c0, *restrict p2 = d[2] + c0;
  const float *restrict p3 = d[3] + c0, *restrict p4 = d[4] + c0;
  for (int c = 0; c < cb; c++) {
    float d0 = p0[c], d1 = p1[c], d2 = p2[c], d3 = p3[c], d4 = p4[c];
    o[c] = 2.0f * (d0 - d2) + (d3 - d1);
    o[os + c] = 2.0f * d1 + (d2 - d3);
    o[2 * os + c] = 3.0f * d2 - 2.0f * d1 - d3;
    o[3 * os + c] = d3 - d1;
    o[4 * os + c] = 2.0f * (d1 - d3) + (d4 - d2);
  }
}

static inline void at2(const float *restrict m, size_t ms, float *restrict o, size_t os, int cb) {
  for (int c = 0; c < cb; c++) {
    float m0 = m[c], m1 = m[ms + c], m2 = m[2 * ms + c];
    o[c] = m0 + m1; o[os + c] = m1 + m2;
  }
}

static inline void at4(const float *restrict m, size_t ms, float *restrict o, size_t os, int cb) {
  for (int c = 0; c < cb; c++) {
    float m0 = m[c], m1 = m[ms + c], m2 = m[2 * ms + c], m3 = m[3 * ms + c], m4 = m[4 * ms + c];
    float s = m1 + m2, t = m1 - m2;
    o[c] = m0 + s + m3;
    o[os + c] = t + 2.0f * m3;
    o[2 * os + c] = s + 4.0f * m3;
    o[3 * os + c] = t + 8.0f * m3 + m4;
  }
}

// The alpha^2 input pixels of tile t's patch for sub-pixel sub (the zero vector outside the image).
static void patch_sources(const winograd_args *g, size_t t, int sub, const float **src) {
  int T = g->tile, al = T + 1, th = g->th, tw = g->tw, c = g->cin;
  int img = (int)(t / ((size_t)th * tw)), rem = (int)(t % ((size_t)th * tw));
  int ti = rem / tw, tj = rem % tw;
  for (int r = 0; r < al; r++)
    for (int q = 0; q < al; q++) {
      int iy, ix;
      if (g->conv) {
        iy = 2 * (T * ti + r) - 1 + (sub >> 1); ix = 2 * (T * tj + q) - 1 + (sub & 1);
      } else {
        iy = T * ti + g->a - 1 + r; ix = T * tj + g->b - 1 + q;
      }
      src[r * al + q] = (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                            ? g->zeros
                            : g->x + (((size_t)img * g->h + iy) * g->w + ix) * c;
    }
}

// V = B^T d B for channels [c0, c0 + cb) of one patch: o[e][CB], e = r * alpha + q.
static void input_tile(int T, const float *const *src, int c0, int cb, float *o) {
  int al = T + 1;
  float s[25 * CB];
  const float *col[5];
  // Over rows (the patch read in place), then over columns (stride CB between q).
  for (int q = 0; q < al; q++) {
    for (int r = 0; r < al; r++) col[r] = src[r * al + q];
    if (T == 2) bt2_rows(col, c0, s + q * CB, (size_t)al * CB, cb);
    else bt4_rows(col, c0, s + q * CB, (size_t)al * CB, cb);
  }
  for (int i = 0; i < al; i++) {
    if (T == 2) bt2(s + i * al * CB, CB, o + i * al * CB, CB, cb);
    else bt4(s + i * al * CB, CB, o + i * al * CB, CB, cb);
  }
}

// Tiles [t0, t1) into the whole-pass matrices v, tile t at row e * rows + t of matrix e.
static void input_block(const winograd_args *g, size_t t0, size_t t1, float *v, size_t rows) {
  int T = g->tile, a2 = (T + 1) * (T + 1), c = g->cin, nsub = g->conv ? 4 : 1;
  size_t K = (size_t)nsub * c;
  float o[25 * CB];
  const float *src[25];
  for (size_t t = t0; t < t1; t++)
    for (int sub = 0; sub < nsub; sub++) {
      patch_sources(g, t, sub, src);
      for (int c0 = 0; c0 < c; c0 += CB) {
        int cb = c - c0 < CB ? c - c0 : CB;
        input_tile(T, src, c0, cb, o);
        size_t col = (size_t)sub * c + c0;
        for (int e = 0; e < a2; e++) memcpy(v + ((size_t)e * rows + t) * K + col, o + e * CB,
                                            (size_t)cb * sizeof(float));
      }
    }
}

// Rows of one panel into the A layout: dst[k * MR + r] = o[r][e][k] for r < MR, k < cb (a
// transpose of MR x cb values, stores contiguous); MR a constant in each instance.
static inline void panel_store(int mr, const float *o, size_t ostride, int e, int cb, float *restrict dst) {
  const float *src = o + (size_t)e * CB;
  for (int k = 0; k < cb; k++)
    for (int r = 0; r < mr; r++) dst[(size_t)k * mr + r] = src[(size_t)r * ostride + k];
}

// Tiles [t0, t1) (at most panels x MR) as micro-kernel A panels: element (e, tile t0 + q MR + r,
// k) at vp[((q * alpha^2 + e) * K + k) * MR + r]; rows past t1 are zero.
static void input_panels(const winograd_args *g, size_t t0, size_t t1, size_t panels, int mr, float *vp) {
  int T = g->tile, a2 = (T + 1) * (T + 1), c = g->cin, nsub = g->conv ? 4 : 1;
  size_t K = (size_t)nsub * c, ostride = 25 * CB;
  float o[GK_MR_MAX * 25 * CB];
  const float *src[GK_MR_MAX][25];
  for (size_t q = 0; q < panels; q++) {
    float *pan = vp + q * a2 * K * mr;
    size_t tq = t0 + q * (size_t)mr;
    int rows = t1 - tq < (size_t)mr ? (int)(t1 - tq) : mr;
    if (rows < mr) memset(o + (size_t)rows * ostride, 0, (size_t)(mr - rows) * ostride * sizeof(float));
    for (int sub = 0; sub < nsub; sub++) {
      for (int r = 0; r < rows; r++) patch_sources(g, tq + r, sub, src[r]);
      for (int c0 = 0; c0 < c; c0 += CB) {
        int cb = c - c0 < CB ? c - c0 : CB;
        for (int r = 0; r < rows; r++) input_tile(T, src[r], c0, cb, o + (size_t)r * ostride);
        size_t col = (size_t)sub * c + c0;
        for (int e = 0; e < a2; e++) {
          float *dst = pan + ((size_t)e * K + col) * mr;
          if (mr == 6) panel_store(6, o, ostride, e, cb, dst);
          else if (mr == 8) panel_store(8, o, ostride, e, cb, dst);
          else if (mr == 4) panel_store(4, o, ostride, e, cb, dst);
          else panel_store(mr, o, ostride, e, cb, dst);
        }
      }
    }
  }
}

static void input_transform(void *ctx, int tid, int nth) {
  const winograd_args *g = (const winograd_args *)ctx;
  size_t tiles = (size_t)g->n * g->th * g->tw;
  size_t per = (tiles + nth - 1) / nth, t0 = (size_t)tid * per, t1 = t0 + per < tiles ? t0 + per : tiles;
  input_block(g, t0, t1, g->v, tiles);
}

// Y = A^T M A for tile t and output channels [c0, c0 + cb), + bias, activation, into the output
// pixels (and the tile's column statistics). Element e of M at m[e * es + c].
static void output_tile(const winograd_args *g, size_t t, int c0, int cb, const float *m, size_t es) {
  int T = g->tile, al = T + 1, th = g->th, tw = g->tw, co = g->cout;
  int step = g->conv ? 1 : 2;  // a deconvolution phase writes every other output pixel
  const float *bias = g->ep ? g->ep->bias : NULL;
  int act = g->ep ? g->ep->act : GK_ACT_NONE;
  float slope = g->ep ? g->ep->slope : 0.0f;
  uint8_t *u8 = g->ep ? g->ep->u8 : NULL;
  float s[20 * CB], o[16 * CB];
  int img = (int)(t / ((size_t)th * tw)), rem = (int)(t % ((size_t)th * tw));
  int ti = rem / tw, tj = rem % tw;
  // s[p][q] = (A^T M)[p][q] over rows, then o[p][r] = (s A)[p][r] over columns.
  for (int q = 0; q < al; q++) {
    if (T == 2) at2(m + q * es, (size_t)al * es, s + q * CB, (size_t)al * CB, cb);
    else at4(m + q * es, (size_t)al * es, s + q * CB, (size_t)al * CB, cb);
  }
  for (int p = 0; p < T; p++) {
    if (T == 2) at2(s + p * al * CB, CB, o + p * T * CB, CB, cb);
    else at4(s + p * al * CB, CB, o + p * T * CB, CB, cb);
  }
  for (int p = 0; p < T; p++)
    for (int q = 0; q < T; q++) {
      int oy = step * (T * ti + p) + g->a, ox = step * (T * tj + q) + g->b;
      size_t off = (((size_t)img * g->oh + oy) * g->ow + ox) * co + c0;
      float *yr = g->y + off, *or_ = o + (p * T + q) * CB;
      // Bias and activation in the local tile, then one store per output element (the output
      // lines miss in cache: a second pass over them stalls on the first's stores).
      if (bias) for (int c = 0; c < cb; c++) or_[c] += bias[c0 + c];
      if (act == GK_ACT_RELU) {
        for (int c = 0; c < cb; c++) or_[c] = or_[c] > 0 ? or_[c] : 0.0f;
      } else if (act == GK_ACT_LRELU) {
        for (int c = 0; c < cb; c++) or_[c] = or_[c] > 0 ? or_[c] : or_[c] * slope;
      } else if (act == GK_ACT_TANH) {
        for (int c = 0; c < cb; c++) or_[c] = gk_tanhf_inline(or_[c]);
      }
      memcpy(yr, or_, (size_t)cb * sizeof(float));
      if (u8) {
        uint8_t *px = u8 + off;
        for (int c = 0; c < cb; c++) px[c] = gk_to_u8(yr[c]);
      }
      if (g->partial) {
        // Per-tile partial sums in a fixed pixel order; reduced over tiles in order afterwards.
        double *ps = g->partial + t * 2 * (size_t)co + c0, *pq = ps + co;
        if (p == 0 && q == 0)
          for (int c = 0; c < cb; c++) { ps[c] = 0.0; pq[c] = 0.0; }
        for (int c = 0; c < cb; c++) {
          double v = yr[c];
          ps[c] += v;
          pq[c] += v * v;
        }
      }
    }
}

static void output_transform(void *ctx, int tid, int nth) {
  const winograd_args *g = (const winograd_args *)ctx;
  size_t tiles = (size_t)g->n * g->th * g->tw, co = (size_t)g->cout;
  size_t per = (tiles + nth - 1) / nth, t0 = (size_t)tid * per, t1 = t0 + per < tiles ? t0 + per : tiles;
  for (size_t t = t0; t < t1; t++)
    for (int c0 = 0; c0 < g->cout; c0 += CB) {
      int cb = g->cout - c0 < CB ? g->cout - c0 : CB;
      output_tile(g, t, c0, cb, g->m + t * co + c0, tiles * co);
    }
}

// Column statistics of one pass: tiles in order, so the sums do not depend on the thread count.
static void reduce_statistics(void *ctx, int tid, int nth) {
  const winograd_args *g = (const winograd_args *)ctx;
  size_t tiles = (size_t)g->n * g->th * g->tw, co = (size_t)g->cout;
  for (size_t c = (size_t)tid; c < co; c += (size_t)nth) {
    double s = 0.0, q = 0.0;
    for (size_t t = 0; t < tiles; t++) {
      s += g->partial[t * 2 * co + c];
      q += g->partial[t * 2 * co + co + c];
    }
    g->ep->col_sum[c] += s;
    g->ep->col_sumsq[c] += q;
  }
}

typedef struct block_args {
  const winograd_args *g;
  const float *packed;  // this pass's alpha^2 packed matrices
  char *thread_ws;      // per thread: one block's A panels and one row panel's products
  size_t per_thread, bp;
} block_args;

// Blocks of bp row panels (MR tiles each) split over threads, each from input transform to output
// transform in the thread's own cache: the input transform writes the micro-kernel's A panels,
// and per column panel and row panel the alpha^2 products (MR x NR each) go through the output
// transform while they are in L1.
static void run_blocks(void *ctx, int tid, int nth) {
  const block_args *b = (const block_args *)ctx;
  const winograd_args *g = b->g;
  const gk_gemm_variant *gv = gemm_variant();
  const int mr = gv->mr, nr = gv->nr, a2 = (g->tile + 1) * (g->tile + 1), co = g->cout;
  size_t tiles = (size_t)g->n * g->th * g->tw, K = (size_t)(g->conv ? 4 : 1) * g->cin, bp = b->bp;
  size_t tb = bp * (size_t)mr, blocks = (tiles + tb - 1) / tb;
  size_t npan = ((size_t)co + nr - 1) / nr, npad = npan * (size_t)nr, per = K * npad;
  char *ws = b->thread_ws + (size_t)tid * b->per_thread;
  float *vp = (float *)ws, *mt = (float *)(ws + round_up64((size_t)a2 * bp * K * mr * sizeof(float)));
  float *rows[25 * GK_MR_MAX];
  for (int i = 0; i < a2 * mr; i++) rows[i] = mt + (size_t)i * nr;
  size_t b0 = blocks * (size_t)tid / (size_t)nth, b1 = blocks * (size_t)(tid + 1) / (size_t)nth;
  for (size_t blk = b0; blk < b1; blk++) {
    size_t t0 = blk * tb, t1 = t0 + tb < tiles ? t0 + tb : tiles, panels = (t1 - t0 + mr - 1) / mr;
    input_panels(g, t0, t1, panels, mr, vp);
    for (size_t p = 0; p < npan; p++) {
      int c0 = (int)(p * nr), cw = co - c0 < nr ? co - c0 : nr;
      for (size_t q = 0; q < panels; q++) {
        const float *aq = vp + q * a2 * K * mr;
        for (int e = 0; e < a2; e++)
          for (size_t pc = 0; pc < K; pc += GK_KC) {
            size_t kc = K - pc < GK_KC ? K - pc : GK_KC;
            gv->ukernel(kc, aq + ((size_t)e * K + pc) * mr, b->packed + (size_t)e * per + pc * npad + p * kc * nr,
                        rows + e * mr, pc > 0);
          }
        size_t tq = t0 + q * mr;
        for (int r = 0; r < mr && tq + r < t1; r++)
          for (int cc = 0; cc < cw; cc += CB)
            output_tile(g, tq + r, c0 + cc, cw - cc < CB ? cw - cc : CB, mt + (size_t)r * nr + cc, (size_t)mr * nr);
      }
    }
  }
}

// The passes (4 deconvolution phases, or the one convolution pass) against packed[pass][alpha^2]:
// in blocks of tiles when they fit a core's cache (block_panels), else whole-pass matrices with
// threaded GEMMs.
static void winograd_run(winograd_args base, int passes, const float *packed, void *workspace, int threads) {
  int al = alpha_of(base.tile), a2 = al * al;
  size_t tiles = (size_t)base.n * base.th * base.tw, K = (size_t)(base.conv ? 4 : 1) * base.cin;
  size_t bp = block_panels(base.tile, tiles, K), nth = threads > 0 ? (size_t)threads : 1;
  char *ws = (char *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  float *zeros = (float *)ws;
  memset(zeros, 0, (size_t)base.cin * sizeof(float));
  double *partial = (double *)(ws + round_up64((size_t)base.cin * sizeof(float)));
  char *rest = (char *)partial + round_up64(tiles * 2 * (size_t)base.cout * sizeof(double));
  const gk_epilogue *ep = base.ep;
  int stats = ep && ep->col_sum && ep->col_sumsq;
  size_t per = gk_f32_gemm_packed_b_floats(K, (size_t)base.cout);
  int nr = gemm_variant()->nr;
  base.zeros = zeros; base.partial = stats ? partial : NULL;
  float *v = (float *)rest;
  float *m = (float *)(rest + round_up64((size_t)a2 * tiles * K * sizeof(float)));
  void *gemm_ws = (char *)m + round_up64((size_t)a2 * tiles * base.cout * sizeof(float));
  if (!bp) { base.v = v; base.m = m; }
  for (int pass = 0; pass < passes; pass++) {
    winograd_args g = base;
    if (!g.conv) { g.a = pass >> 1; g.b = pass & 1; }
    const float *pass_packed = packed + (size_t)pass * a2 * per;
    if (bp) {
      block_args b = {&g, pass_packed, rest, block_thread_bytes(base.tile, bp, K), bp};
      gk_run_parallel((int)nth, run_blocks, &b);
    } else {
      gk_run_parallel(threads, input_transform, &g);
      for (int xi = 0; xi < a2; xi++) {
        gk_operand A = gk_operand_matrix(v + (size_t)xi * tiles * K, K);
        gk_operand B;
        memset(&B, 0, sizeof B);
        B.kind = GK_OPERAND_PACKED;
        B.data = pass_packed + (size_t)xi * per;
        B.packed_k = K; B.packed_n = (size_t)g.cout; B.packed_nr = nr;
        gk_output C = gk_output_dense(m + (size_t)xi * tiles * g.cout, (size_t)g.cout);
        gk_f32_gemm(tiles, (size_t)g.cout, K, &A, &B, &C, NULL, gemm_ws, threads);
      }
      gk_run_parallel(threads, output_transform, &g);
    }
    if (stats) gk_run_parallel(threads, reduce_statistics, &g);
  }
}

void gk_f32_deconv4s2_winograd_forward(int tile, int n, int h, int w, int cin, int cout, const float *x,
                                   const float *packed, const gk_epilogue *ep, float *y,
                                   void *workspace, int threads) {
  winograd_args g;
  memset(&g, 0, sizeof g);
  g.tile = tile; g.n = n; g.h = h; g.w = w; g.cin = cin; g.cout = cout;
  g.th = h / tile; g.tw = w / tile; g.oh = 2 * h; g.ow = 2 * w;
  g.x = x; g.ep = ep; g.y = y;
  winograd_run(g, 4, packed, workspace, threads);
}

void gk_f32_conv4s2_winograd_forward(int tile, int n, int h, int w, int cin, int cout, const float *x,
                                 const float *packed, const gk_epilogue *ep, float *y, void *workspace,
                                 int threads) {
  winograd_args g;
  memset(&g, 0, sizeof g);
  g.tile = tile; g.n = n; g.h = h; g.w = w; g.cin = cin; g.cout = cout; g.conv = 1;
  g.th = h / 2 / tile; g.tw = w / 2 / tile; g.oh = h / 2; g.ow = w / 2;
  g.x = x; g.ep = ep; g.y = y;
  winograd_run(g, 1, packed, workspace, threads);
}
