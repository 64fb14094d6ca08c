// int8 layer driver (gan-quant files): each layer is P phase GEMMs (4 for ConvTranspose2d(4, 2, 1),
// 1 for dense), M pixels x N = cout x K = 4 * cin (or kin). A task converts a block of MB input
// rows (the phase's 2x2 windows, zero point outside the image) to int16 in the thread's
// workspace, then runs the micro-kernel over its panels of packed int8 weights and applies the
// fp32 epilogue. Tasks are split over threads by hand, all layers in one parallel region.
#include "q8_internal.h"

static size_t k_pad(const gk_q8_variant *v, size_t k) {
  size_t g = (size_t)v->kgroup;
  return (k + g - 1) / g * g;
}
static size_t a_bytes(const gk_q8_variant *v) { return v->kgroup == 4 ? 1 : 2; }
// Bytes of one packed panel: the weights, then (kgroup 4) NR int32 column sums.
static size_t panel_bytes(const gk_q8_variant *v, size_t k) {
  return k_pad(v, k) * (size_t)v->nr + (v->kgroup == 4 ? (size_t)v->nr * sizeof(int32_t) : 0);
}

static int layer_phases(const gk_q8_layer *l) { return l->kind == GK_Q8_DECONV4S2 ? 4 : 1; }
static size_t layer_m(const gk_q8_layer *l) {
  return l->kind == GK_Q8_DECONV4S2 ? (size_t)l->n * l->h * l->w : (size_t)l->n;
}
static size_t layer_k(const gk_q8_layer *l) {
  return l->kind == GK_Q8_DECONV4S2 ? 4 * (size_t)l->cin : (size_t)l->cin;
}

static int layer_narrow(int kind, int cout) { return kind == GK_Q8_DECONV4S2 && cout <= GK_Q8_NARROW_MAX_COUT; }
static size_t cin16(int cin) { return ((size_t)cin + 15) & ~(size_t)15; }

static size_t phase_bytes(const gk_q8_variant *v, size_t k, size_t n) {
  size_t panels = (n + (size_t)v->nr - 1) / (size_t)v->nr;
  return panels * panel_bytes(v, k);
}

size_t gk_q8_packed_bytes(int kind, int cin, int cout) {
  const gk_q8_variant *v = gk_config()->q8;
  if (layer_narrow(kind, cout)) return 16 * (size_t)cout * cin16(cin) * sizeof(int16_t);
  if (kind == GK_Q8_DECONV4S2) return 4 * phase_bytes(v, 4 * (size_t)cin, (size_t)cout);
  if (kind == GK_Q8_DECONV4S2_WINOGRAD2) return gk_q8_winograd2_packed_bytes(cin, cout);
  return phase_bytes(v, (size_t)cin, (size_t)cout);
}

// Panels of NR columns; inside a panel, for each group of G = kgroup rows k, NR columns of G
// consecutive-k weights (w[k][j], ..., w[k + G - 1][j]); rows past K and columns past N are zero.
// With G = 4 each panel ends with the NR column sums (int32).
// Every source layout here is separable: element (k, n) is src[row(k) + col(n)]. The offsets are
// computed once per panel column and once per row group instead of a callback per element (a 64 px
// generator's 2 MB layer: 16 ms instead of 40 here; its weight rows are 4 KB-aliased, which is
// what still costs).
typedef size_t (*q8_offset_fn)(const void *ctx, size_t i);
static void pack_matrix(const gk_q8_variant *v, size_t k, size_t n, const int8_t *src, q8_offset_fn row,
                        q8_offset_fn col, const void *ctx, int8_t *packed) {
  size_t nr = (size_t)v->nr, kp = k_pad(v, k), g = (size_t)v->kgroup;
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    size_t coff[GK_Q8_NR_MAX];
    int32_t sums[GK_Q8_NR_MAX];
    size_t cols = n - j0 < nr ? n - j0 : nr;
    for (size_t j = 0; j < cols; j++) coff[j] = col(ctx, j0 + j);
    for (size_t j = 0; j < nr; j++) sums[j] = 0;
    for (size_t r = 0; r < kp; r += g) {
      size_t roff[4];
      size_t rows = r < k ? (k - r < g ? k - r : g) : 0;
      for (size_t e = 0; e < rows; e++) roff[e] = row(ctx, r + e);
      int8_t *dst = packed + r / g * nr * g;
      for (size_t j = 0; j < nr; j++)
        for (size_t e = 0; e < g; e++) {
          int8_t w = (j < cols && e < rows) ? src[roff[e] + coff[j]] : 0;
          dst[j * g + e] = w;
          sums[j] += w;
        }
    }
    if (g == 4) memcpy(packed + kp * nr, sums, nr * sizeof(int32_t));
    packed += panel_bytes(v, k);
  }
}

typedef struct { const int8_t *w; int cin, cout, a, b; } deconv_at_ctx;
// Phase (a, b), row k = t * cin + ci: tap t reads input offset (a - 1 + t/2, b - 1 + t%2) through
// kernel position (1 + a - 2 * ry, 1 + b - 2 * rx); PyTorch's (cin, cout, 4, 4) layout.
static size_t deconv_row(const void *p, size_t k) {
  const deconv_at_ctx *c = p;
  int t = (int)(k / (size_t)c->cin), ci = (int)(k % (size_t)c->cin);
  int ry = c->a - 1 + (t >> 1), rx = c->b - 1 + (t & 1);
  int ky = 1 + c->a - 2 * ry, kx = 1 + c->b - 2 * rx;
  return (size_t)ci * c->cout * 16 + (size_t)(ky * 4 + kx);
}
static size_t deconv_col(const void *p, size_t n) { (void)p; return n * 16; }
static int8_t deconv_at(const void *p, size_t k, size_t n) {
  const deconv_at_ctx *c = p;
  return c->w[deconv_row(p, k) + deconv_col(p, n)];
}

void gk_q8_pack_deconv4s2_torch(int cin, int cout, const int8_t *torch_wgt, int8_t *packed) {
  const gk_q8_variant *v = gk_config()->q8;
  if (layer_narrow(GK_Q8_DECONV4S2, cout)) {
    int16_t *p = (int16_t *)packed;
    size_t c16 = cin16(cin);
    for (int phase = 0; phase < 4; phase++) {
      deconv_at_ctx c = {torch_wgt, cin, cout, phase >> 1, phase & 1};
      for (int t = 0; t < 4; t++)
        for (int co = 0; co < cout; co++)
          for (size_t ci = 0; ci < c16; ci++)
            p[(((size_t)phase * 4 + t) * cout + co) * c16 + ci] =
                ci < (size_t)cin ? deconv_at(&c, (size_t)t * cin + ci, (size_t)co) : 0;
    }
    return;
  }
  size_t per = phase_bytes(v, 4 * (size_t)cin, (size_t)cout);
  for (int phase = 0; phase < 4; phase++) {
    deconv_at_ctx c = {torch_wgt, cin, cout, phase >> 1, phase & 1};
    pack_matrix(v, 4 * (size_t)cin, (size_t)cout, torch_wgt, deconv_row, deconv_col, &c, packed + phase * per);
  }
}

typedef struct { size_t ld; int c; } dense_at_ctx;
// The projection (nz, c, 4, 4): row k, column n = (ky * 4 + kx) * c + channel.
static size_t projection_row(const void *p, size_t k) { return k * (size_t)((const dense_at_ctx *)p)->c * 16; }
static size_t projection_col(const void *p, size_t n) {
  const dense_at_ctx *c = p;
  return n % (size_t)c->c * 16 + n / (size_t)c->c;
}
static size_t dense_row(const void *p, size_t k) { return k * ((const dense_at_ctx *)p)->ld; }
static size_t dense_col(const void *p, size_t n) { (void)p; return n; }

void gk_q8_pack_projection_torch(int nz, int c, const int8_t *torch_wgt, int8_t *packed) {
  dense_at_ctx ctx = {0, c};
  pack_matrix(gk_config()->q8, (size_t)nz, 16 * (size_t)c, torch_wgt,
              projection_row, projection_col, &ctx, packed);
}

void gk_q8_pack_dense(int kin, int kout, const int8_t *wgt, int8_t *packed) {
  dense_at_ctx ctx = {(size_t)kout, 0};
  pack_matrix(gk_config()->q8, (size_t)kin, (size_t)kout, wgt, dense_row,
              dense_col, &ctx, packed);
}

// Rows per task: a few micro-kernel strips, so a weight panel is reused from L1 across them.
static size_t block_rows(const gk_q8_variant *v) { return 4 * (size_t)v->mr; }

// Per thread: a block of int16 A rows, or for a narrow layer two int16 input rows and one output
// row of sums.
static size_t thread_bytes(const gk_q8_variant *v, const gk_q8_layer *layers, int count) {
  size_t bytes = 64;
  for (int i = 0; i < count; i++) {
    const gk_q8_layer *l = &layers[i];
    size_t b = layer_narrow(l->kind, l->cout)
                   ? 2 * (size_t)l->w * cin16(l->cin) * sizeof(int16_t) + 6 * (size_t)l->w * l->cout * sizeof(int32_t) + 64
                   : l->kind == GK_Q8_DECONV4S2_WINOGRAD2 ? gk_q8_winograd2_thread_bytes(v, l)
                   : block_rows(v) * k_pad(v, layer_k(l)) * a_bytes(v);
    bytes = b > bytes ? b : bytes;
  }
  return (bytes + 63) & ~(size_t)63;
}

// Shared by all threads: a Winograd layer's transformed inputs and GEMM outputs.
static size_t shared_bytes(const gk_q8_variant *v, const gk_q8_layer *layers, int count) {
  size_t bytes = 0;
  for (int i = 0; i < count; i++)
    if (layers[i].kind == GK_Q8_DECONV4S2_WINOGRAD2) {
      size_t b = gk_q8_winograd2_shared_bytes(v, &layers[i]);
      bytes = b > bytes ? b : bytes;
    }
  return (bytes + 63) & ~(size_t)63;
}

size_t gk_q8_workspace_bytes(const gk_q8_layer *layers, int count, int threads) {
  const gk_q8_variant *v = gk_config()->q8;
  return (size_t)(threads > 0 ? threads : 1) * thread_bytes(v, layers, count) + shared_bytes(v, layers, count);
}

// Task grid of one layer: phases x row blocks x column blocks, columns split only when there are
// too few row blocks to keep every thread busy.
typedef struct { size_t m, k, n, mb, mblocks, panels, nblocks, tasks; int phases; } q8_grid;

static q8_grid layer_grid(const gk_q8_variant *v, const gk_q8_layer *l, int nth) {
  q8_grid g;
  g.phases = layer_phases(l); g.m = layer_m(l); g.k = layer_k(l); g.n = (size_t)l->cout;
  g.mb = block_rows(v);
  g.mblocks = (g.m + g.mb - 1) / g.mb;
  g.panels = (g.n + (size_t)v->nr - 1) / (size_t)v->nr;
  g.nblocks = 1;
  while ((size_t)g.phases * g.mblocks * g.nblocks < 2 * (size_t)nth && g.nblocks < g.panels) g.nblocks++;
  g.tasks = (size_t)g.phases * g.mblocks * g.nblocks;
  return g;
}

// Input codes of one run of k values: int16 (kgroup 2) or int8 shifted for sdot (kgroup 4).
void gk_q8_convert_run(const gk_q8_variant *v, const gk_q8_layer *l, size_t off, size_t k, void *dst) {
  float lo = l->x_signed ? -127.0f : 0.0f, hi = l->x_signed ? 127.0f : 255.0f;
  if (v->kgroup == 4) {
    if (l->x_u8) v->rows_u8(k, l->x_u8 + off, dst);
    else v->rows_f32(k, l->x_f32 + off, l->x_inv_scale, lo, hi, dst);
  } else {
    if (l->x_u8) v->widen_u8(k, l->x_u8 + off, dst);
    else v->quantize_f32(k, l->x_f32 + off, l->x_inv_scale, lo, hi, dst);
  }
}

// The code 0 as stored: 0, or -128 for shifted unsigned codes.
static void fill_zero_point(const gk_q8_variant *v, const gk_q8_layer *l, void *dst, size_t k) {
  if (v->kgroup == 4) memset(dst, l->x_u8 || !l->x_signed ? 0x80 : 0, k);
  else memset(dst, 0, k * sizeof(int16_t));
}

// Row r of phase (a, b) of a deconvolution: pixel (img, i, j) of the input grid.
static void convert_row(const gk_q8_variant *v, const gk_q8_layer *l, int a, int b, size_t r,
                        char *dst, size_t kp) {
  size_t eb = a_bytes(v);
  if (l->kind == GK_Q8_DENSE) {
    size_t k = (size_t)l->cin;
    gk_q8_convert_run(v, l, r * k, k, dst);
    if (kp > k) fill_zero_point(v, l, dst + k * eb, kp - k);
    return;
  }
  size_t hw = (size_t)l->h * l->w, c = (size_t)l->cin;
  int img = (int)(r / hw), i = (int)(r % hw) / l->w, j = (int)(r % hw) % l->w;
  for (int t = 0; t < 4; t++) {
    int iy = i + a - 1 + (t >> 1), ix = j + b - 1 + (t & 1);
    char *d = dst + (size_t)t * c * eb;
    if (iy < 0 || iy >= l->h || ix < 0 || ix >= l->w) {
      fill_zero_point(v, l, d, c);
      continue;
    }
    gk_q8_convert_run(v, l, (((size_t)img * l->h + iy) * l->w + ix) * c, c, d);
  }
  if (kp > 4 * c) fill_zero_point(v, l, dst + 4 * c * eb, kp - 4 * c);
}

static size_t output_offset(const gk_q8_layer *l, int a, int b, size_t r) {
  if (l->kind == GK_Q8_DENSE) return r * (size_t)l->cout;
  size_t hw = (size_t)l->h * l->w;
  size_t img = r / hw, i = (r % hw) / (size_t)l->w, j = (r % hw) % (size_t)l->w;
  return ((img * 2 * l->h + 2 * i + a) * 2 * l->w + 2 * j + b) * (size_t)l->cout;
}

void gk_q8_epilogue_row(const gk_q8_variant *v, const gk_q8_layer *l, size_t col0, size_t ncols,
                        const int32_t *acc, size_t off) {
  const float *mult = l->mult + col0, *bias = l->bias + col0;
  if (l->out == GK_Q8_OUT_U8) {
    v->requant_u8(ncols, acc, mult, bias, l->y_u8 + off + col0);
  } else {
    int act = l->out == GK_Q8_OUT_F32_TANH ? GK_Q8_ACT_TANH : (l->out == GK_Q8_OUT_F32 ? GK_Q8_ACT_NONE : GK_Q8_ACT_RELU);
    v->dequant(ncols, acc, mult, bias, act, l->y_f32 ? l->y_f32 + off + col0 : NULL,
               l->out == GK_Q8_OUT_F32_TANH && l->pixels ? l->pixels + off + col0 : NULL);
  }
}

static void run_task(const gk_q8_variant *v, const gk_q8_layer *l, const q8_grid *g, size_t task,
                     char *rows) {
  size_t per_phase = g->mblocks * g->nblocks;
  int phase = (int)(task / per_phase);
  size_t rest = task % per_phase, mblk = rest / g->nblocks, nblk = rest % g->nblocks;
  int a = phase >> 1, b = phase & 1;
  size_t r0 = mblk * g->mb, r1 = r0 + g->mb < g->m ? r0 + g->mb : g->m;
  size_t kp = k_pad(v, g->k), mr = (size_t)v->mr, nr = (size_t)v->nr, row_bytes = kp * a_bytes(v);
  int shifted = v->kgroup == 4 && (l->x_u8 || !l->x_signed);
  for (size_t r = r0; r < r1; r++) convert_row(v, l, a, b, r, rows + (r - r0) * row_bytes, kp);
  size_t p0 = nblk * g->panels / g->nblocks, p1 = (nblk + 1) * g->panels / g->nblocks;
  const int8_t *phase_w = l->packed + (size_t)phase * phase_bytes(v, g->k, g->n);
  const void *a_rows[GK_Q8_MR_MAX];
  int32_t acc[GK_Q8_MR_MAX * GK_Q8_NR_MAX] __attribute__((aligned(64)));
  for (size_t p = p0; p < p1; p++) {
    const int8_t *panel = phase_w + p * panel_bytes(v, g->k);
    size_t col0 = p * nr, ncols = g->n - col0 < nr ? g->n - col0 : nr;
    for (size_t s = r0; s < r1; s += mr) {
      size_t valid = r1 - s < mr ? r1 - s : mr;
      // Rows past the block repeat its last row; their sums are computed and dropped.
      for (size_t i = 0; i < mr; i++) a_rows[i] = rows + ((i < valid ? s + i : r1 - 1) - r0) * row_bytes;
      v->ukernel(kp / (size_t)v->kgroup, a_rows, panel, acc);
      if (shifted) {
        // sum (x - 128) w + 128 sum w = sum x w
        int32_t sums[GK_Q8_NR_MAX];
        memcpy(sums, panel + kp * nr, nr * sizeof(int32_t));
        for (size_t i = 0; i < valid; i++)
          for (size_t j = 0; j < nr; j++) acc[i * nr + j] += 128 * sums[j];
      }
      for (size_t i = 0; i < valid; i++)
        gk_q8_epilogue_row(v, l, col0, ncols, acc + i * nr, output_offset(l, a, b, s + i));
    }
  }
}

// One input row of a narrow layer as int16, channels padded with zeros to a multiple of 16.
static void convert_input_row(const gk_q8_variant *v, const gk_q8_layer *l, int img, int iy, int16_t *dst) {
  size_t c = (size_t)l->cin, c16 = cin16(l->cin);
  float hi = 255.0f;
  for (int ix = 0; ix < l->w; ix++) {
    size_t off = (((size_t)img * l->h + iy) * l->w + ix) * c;
    int16_t *d = dst + (size_t)ix * c16;
    if (l->x_u8) v->widen_u8(c, l->x_u8 + off, d);
    else v->quantize_f32(c, l->x_f32 + off, l->x_inv_scale, 0.0f, hi, d);
    for (size_t k = c; k < c16; k++) d[k] = 0;
  }
}

static void run_narrow(const gk_q8_variant *v, const gk_q8_layer *l, int tid, int nth, char *ws) {
  size_t rows = (size_t)l->n * 2 * l->h, c16 = cin16(l->cin);
  int16_t *in0 = (int16_t *)ws, *in1 = in0 + (size_t)l->w * c16;
  int32_t *acc = (int32_t *)(((uintptr_t)(in1 + (size_t)l->w * c16) + 63) & ~(uintptr_t)63);
  // The row's per-element factors: channel co of every pixel.
  size_t row_elems = 2 * (size_t)l->w * l->cout;
  float *mult = (float *)(acc + row_elems), *bias = mult + row_elems;
  for (size_t e = 0; e < row_elems; e++) { mult[e] = l->mult[e % l->cout]; bias[e] = l->bias[e % l->cout]; }
  gk_q8_layer row_layer = *l;
  row_layer.mult = mult; row_layer.bias = bias;
  size_t r0 = rows * (size_t)tid / (size_t)nth, r1 = rows * (size_t)(tid + 1) / (size_t)nth;
  for (size_t r = r0; r < r1; r++) {
    int img = (int)(r / (2 * (size_t)l->h)), oy = (int)(r % (2 * (size_t)l->h)), i = oy >> 1, a = oy & 1;
    int y0 = i + a - 1, y1 = i + a;
    const int16_t *row0 = NULL, *row1 = NULL;
    if (y0 >= 0 && y0 < l->h) { convert_input_row(v, l, img, y0, in0); row0 = in0; }
    if (y1 >= 0 && y1 < l->h) { convert_input_row(v, l, img, y1, in1); row1 = in1; }
    v->narrow_row(l->w, (int)c16, l->cout, a, row0, row1, (const int16_t *)l->packed, acc);
    gk_q8_epilogue_row(v, &row_layer, 0, row_elems, acc, (((size_t)img * 2 * l->h + oy) * 2 * l->w) * l->cout);
  }
}

typedef struct {
  const gk_q8_layer *layers;
  int count;
  char *workspace;
  size_t per_thread;
  char *shared;
} q8_run_ctx;

static void run_body(void *p, int tid, int nth) {
  const q8_run_ctx *c = p;
  const gk_q8_variant *v = gk_config()->q8;
  char *rows = c->workspace + (size_t)tid * c->per_thread;
  for (int li = 0; li < c->count; li++) {
    const gk_q8_layer *l = &c->layers[li];
    if (layer_narrow(l->kind, l->cout)) {
      run_narrow(v, l, tid, nth, c->workspace + (size_t)tid * c->per_thread);
      if (li + 1 < c->count) gk_barrier(nth);
      continue;
    }
    if (l->kind == GK_Q8_DECONV4S2_WINOGRAD2) {
      gk_q8_winograd2_run_layer(v, l, tid, nth, rows, c->shared);
      if (li + 1 < c->count) gk_barrier(nth);
      continue;
    }
    q8_grid g = layer_grid(v, l, nth);
    size_t t0 = g.tasks * (size_t)tid / (size_t)nth, t1 = g.tasks * (size_t)(tid + 1) / (size_t)nth;
    for (size_t t = t0; t < t1; t++) run_task(v, l, &g, t, rows);
    if (li + 1 < c->count) gk_barrier(nth);
  }
}

void gk_q8_run(const gk_q8_layer *layers, int count, void *workspace, int threads) {
  const gk_q8_variant *v = gk_config()->q8;
  size_t per_thread = thread_bytes(v, layers, count);
  q8_run_ctx c = {layers, count, workspace, per_thread, (char *)workspace + (size_t)(threads > 0 ? threads : 1) * per_thread};
  gk_run_parallel(threads, run_body, &c);
}
