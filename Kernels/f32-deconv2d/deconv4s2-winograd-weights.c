// The weight side of the Winograd passes in deconv4s2-winograd.c: each 2x2 phase kernel g becomes
// U = G g G^T (alpha x alpha, alpha = tile + 1), and the alpha^2 matrices U[xi] (K x cout, K = cin,
// or 4 cin for the convolution's space-to-depth rows (p, q, c)) are laid out as the GEMM's packed
// B panels. Training redoes this after every optimizer step, so it is on the iteration's path:
// the fused packer computes each panel's rows straight into the panel (one pass over the weights,
// one over the packed output, all threads in one parallel region, the transform vectorizable across
// a panel's columns); the reference transforms into a K x cout scratch and packs that with the
// GEMM's pack_b, as before the fusion. Both write the same bits: the same operations per element.
#include "../common/gk_internal.h"

// U = G g G^T for one 2x2 kernel g (row-major), into u[alpha][alpha] (G in the header of
// deconv4s2-winograd.c).
static void weight_transform(int tile, const float g[4], float *u) {
  float r[5][2];
  if (tile == 2) {
    r[0][0] = g[0]; r[0][1] = g[1];
    r[1][0] = g[0] + g[2]; r[1][1] = g[1] + g[3];
    r[2][0] = g[2]; r[2][1] = g[3];
    for (int i = 0; i < 3; i++) {
      u[i * 3 + 0] = r[i][0];
      u[i * 3 + 1] = r[i][0] + r[i][1];
      u[i * 3 + 2] = r[i][1];
    }
    return;
  }
  for (int q = 0; q < 2; q++) {
    float g0 = g[q], g1 = g[2 + q];
    r[0][q] = g0 * 0.5f;
    r[1][q] = (g0 + g1) * 0.5f;
    r[2][q] = (g0 - g1) / 6.0f;
    r[3][q] = (g0 + 2.0f * g1) / 6.0f;
    r[4][q] = g1;
  }
  for (int i = 0; i < 5; i++) {
    float g0 = r[i][0], g1 = r[i][1];
    u[i * 5 + 0] = g0 * 0.5f;
    u[i * 5 + 1] = (g0 + g1) * 0.5f;
    u[i * 5 + 2] = (g0 - g1) / 6.0f;
    u[i * 5 + 3] = (g0 + 2.0f * g1) / 6.0f;
    u[i * 5 + 4] = g1;
  }
}

typedef struct pack_args {
  int tile, cin, cout, transposed, phase, conv;
  const float *wgt;
  float *packed, *scratch;
} pack_args;

// The four KKIO tap matrices (cin x cout, or cout x cin when transposed) of phase `phase` (or,
// for the convolution, of sub-pixel `sub`), indexed by tap t = (ty, tx).
static void phase_taps(const pack_args *p, int sub, const float *g[4]) {
  size_t cc = (size_t)p->cin * p->cout;
  int a = p->phase >> 1, b = p->phase & 1;
  for (int t = 0; t < 4; t++) {
    int ky, kx;
    if (p->conv) {
      ky = 2 * (t >> 1) + (sub >> 1); kx = 2 * (t & 1) + (sub & 1);
    } else {
      int ry = a - 1 + (t >> 1), rx = b - 1 + (t & 1);
      ky = 1 + a - 2 * ry; kx = 1 + b - 2 * rx;
    }
    g[t] = p->wgt + (size_t)(ky * 4 + kx) * cc;
  }
}

// MARK: - Reference: transform into scratch[alpha^2][K][cout], then the GEMM's pack_b

static void transform_phase_ref(void *ctx, int tid, int nth) {
  const pack_args *p = (const pack_args *)ctx;
  int a2 = (p->tile + 1) * (p->tile + 1), cin = p->cin, cout = p->cout;
  int nsub = p->conv ? 4 : 1, K = nsub * cin;
  size_t kc = (size_t)K * cout;
  const float *g[4][4];  // [sub-pixel][tap]
  for (int sub = 0; sub < nsub; sub++) phase_taps(p, sub, g[sub]);
  int per = (K + nth - 1) / nth, k0 = tid * per, k1 = k0 + per < K ? k0 + per : K;
  for (int k = k0; k < k1; k++) {
    int sub = k / cin, c = k % cin;
    for (int n = 0; n < cout; n++) {
      size_t src = p->transposed ? (size_t)n * cin + c : (size_t)c * cout + n;
      float gv[4] = {g[sub][0][src], g[sub][1][src], g[sub][2][src], g[sub][3][src]}, u[25];
      weight_transform(p->tile, gv, u);
      for (int xi = 0; xi < a2; xi++) p->scratch[(size_t)xi * kc + (size_t)k * cout + n] = u[xi];
    }
  }
}

static void pack_phase_ref(void *ctx, int tid, int nth) {
  const pack_args *p = (const pack_args *)ctx;
  int a2 = (p->tile + 1) * (p->tile + 1);
  size_t K = (size_t)(p->conv ? 4 : 1) * p->cin;
  size_t per = gk_f32_gemm_packed_b_floats(K, (size_t)p->cout), kc = K * p->cout;
  for (int xi = tid; xi < a2; xi += nth) {
    gk_operand B = gk_operand_matrix(p->scratch + (size_t)xi * kc, (size_t)p->cout);
    gk_f32_gemm_pack_b(&B, K, (size_t)p->cout, p->packed + ((size_t)p->phase * a2 + xi) * per);
  }
}

void gk_f32_deconv4s2_winograd_pack_weights_ref(int tile, int cin, int cout, const float *wgt, int transposed,
                                                float *packed, float *scratch) {
  for (int phase = 0; phase < 4; phase++) {
    pack_args p = {tile, cin, cout, transposed, phase, 0, wgt, packed, scratch};
    gk_run_parallel(1, transform_phase_ref, &p);
    gk_run_parallel(1, pack_phase_ref, &p);
  }
}

void gk_f32_conv4s2_winograd_pack_weights_ref(int tile, int cin, int cout, const float *wgt, float *packed,
                                              float *scratch) {
  pack_args p = {tile, cin, cout, 0, 0, 1, wgt, packed, scratch};
  gk_run_parallel(1, transform_phase_ref, &p);
  gk_run_parallel(1, pack_phase_ref, &p);
}

// MARK: - Fused: each (phase, panel, block of ROWS rows) transformed straight into its panel rows

enum { ROWS = 16 };  // rows per unit: 4 x 16 x nr gathered taps stay in L1

typedef struct fused_args {
  pack_args base;  // phase unused: units cover all phases
  int phases, nr, npanels, rblocks;
} fused_args;

// Panel layout (gk_f32_gemm_pack_b): K in blocks of GK_KC rows; within block pc (kc rows), panel
// p holds kc rows of nr columns, row-major, columns past cout zero; block pc starts at pc * npad.
static void pack_unit(const fused_args *f, int unit) {
  const pack_args *p = &f->base;
  int tile = p->tile, a2 = (tile + 1) * (tile + 1), cin = p->cin, cout = p->cout, nr = f->nr;
  int K = (p->conv ? 4 : 1) * cin;
  int phase = unit / (f->npanels * f->rblocks), rest = unit % (f->npanels * f->rblocks);
  int panel = rest / f->rblocks, r0 = rest % f->rblocks * ROWS, rows = K - r0 < ROWS ? K - r0 : ROWS;
  int n0 = panel * nr, ncols = cout - n0 < nr ? cout - n0 : nr;
  size_t npad = (size_t)f->npanels * nr, per = (size_t)K * npad;
  pack_args ph = *p;
  ph.phase = phase;
  // gv[t][r][c]: tap t of row r0 + r, column n0 + c; zero past cout (transforms to zero padding).
  float gv[4][ROWS][GK_NR_MAX], u[25][GK_NR_MAX];
  const float *g[4];
  for (int r = 0; r < rows; r++) {
    int k = r0 + r, sub = k / cin, c = k % cin;
    phase_taps(&ph, sub, g);
    for (int t = 0; t < 4; t++) {
      float *dst = gv[t][r];
      if (p->transposed) {
        const float *src = g[t] + (size_t)n0 * cin + c;
        for (int j = 0; j < ncols; j++) dst[j] = src[(size_t)j * cin];
      } else {
        const float *src = g[t] + (size_t)c * cout + n0;
        for (int j = 0; j < ncols; j++) dst[j] = src[j];
      }
      for (int j = ncols; j < nr; j++) dst[j] = 0.0f;
    }
  }
  for (int r = 0; r < rows; r++) {
    int k = r0 + r;
    size_t pc = (size_t)k / GK_KC * GK_KC, kc = (size_t)K - pc < GK_KC ? (size_t)K - pc : GK_KC;
    size_t off = pc * npad + (size_t)panel * kc * nr + ((size_t)k - pc) * nr;
    const float *g0 = gv[0][r], *g1 = gv[1][r], *g2 = gv[2][r], *g3 = gv[3][r];
    // weight_transform's operations written across the panel's nr columns, so that they vectorize
    // (4x faster than calling it per column, measured); WinogradPackTests holds the two to the same bits.
    if (tile == 2) {
      for (int j = 0; j < nr; j++) {
        float r00 = g0[j], r01 = g1[j], r10 = g0[j] + g2[j], r11 = g1[j] + g3[j], r20 = g2[j], r21 = g3[j];
        u[0][j] = r00; u[1][j] = r00 + r01; u[2][j] = r01;
        u[3][j] = r10; u[4][j] = r10 + r11; u[5][j] = r11;
        u[6][j] = r20; u[7][j] = r20 + r21; u[8][j] = r21;
      }
    } else {
      for (int j = 0; j < nr; j++) {
        float rr[5][2];
        for (int q = 0; q < 2; q++) {
          float a = q ? g1[j] : g0[j], b = q ? g3[j] : g2[j];
          rr[0][q] = a * 0.5f;
          rr[1][q] = (a + b) * 0.5f;
          rr[2][q] = (a - b) / 6.0f;
          rr[3][q] = (a + 2.0f * b) / 6.0f;
          rr[4][q] = b;
        }
        for (int i = 0; i < 5; i++) {
          float a = rr[i][0], b = rr[i][1];
          u[i * 5 + 0][j] = a * 0.5f;
          u[i * 5 + 1][j] = (a + b) * 0.5f;
          u[i * 5 + 2][j] = (a - b) / 6.0f;
          u[i * 5 + 3][j] = (a + 2.0f * b) / 6.0f;
          u[i * 5 + 4][j] = b;
        }
      }
    }
    for (int xi = 0; xi < a2; xi++) {
      float *dst = p->packed + ((size_t)phase * a2 + xi) * per + off;
      for (int j = 0; j < nr; j++) dst[j] = u[xi][j];
    }
  }
}

static void pack_fused(void *ctx, int tid, int nth) {
  const fused_args *f = (const fused_args *)ctx;
  int units = f->phases * f->npanels * f->rblocks, per = (units + nth - 1) / nth;
  int u0 = tid * per, u1 = u0 + per < units ? u0 + per : units;
  for (int u = u0; u < u1; u++) pack_unit(f, u);
}

static void pack_fused_all(int tile, int cin, int cout, const float *wgt, int transposed, int conv, float *packed,
                           int threads) {
  int nr = gk_config()->gemm->nr, K = (conv ? 4 : 1) * cin;
  fused_args f = {{tile, cin, cout, transposed, 0, conv, wgt, packed, NULL}, conv ? 1 : 4, nr, (cout + nr - 1) / nr,
                  (K + ROWS - 1) / ROWS};
  gk_run_parallel(threads, pack_fused, &f);
}

void gk_f32_deconv4s2_winograd_pack_weights(int tile, int cin, int cout, const float *wgt, int transposed,
                                            float *packed, int threads) {
  // wgt: 16 taps of cin x cout (KKIO), or with `transposed` 16 taps of cout x cin (a Conv2d's
  // KKIO weights read backwards, for its backward-data).
  pack_fused_all(tile, cin, cout, wgt, transposed, 0, packed, threads);
}

void gk_f32_conv4s2_winograd_pack_weights(int tile, int cin, int cout, const float *wgt, float *packed,
                                          int threads) {
  // wgt: a Conv2d's KKIO weights (16 x cin x cout).
  pack_fused_all(tile, cin, cout, wgt, 0, 1, packed, threads);
}
