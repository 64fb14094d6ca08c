// ConvTranspose2d(4, stride 2, pad 1) as four 2x2 phase convolutions (sub-pixel decomposition).
// Output row 2i+a takes input rows i+r for r in {a-1, a} through kernel row ky = 1 + a - 2r
// (likewise columns with b, kx). Each phase is one GEMM: M = n*h*w pixels, K = 4*cin, N = cout,
// written straight into its interleaved output positions by an output rowmap.
#include "../common/gk_internal.h"

static void phase_window(gk_window *win, int h, int w, int c, int a, int b) {
  memset(win, 0, sizeof *win);
  win->h = h; win->w = w; win->c = c; win->oh = h; win->ow = w; win->stride = 1; win->ntaps = 4;
  for (int t = 0; t < 4; t++) {
    win->dy[t] = a - 1 + (t >> 1);
    win->dx[t] = b - 1 + (t & 1);
  }
}

// Rows (tap, ci) of the phase's weight slice of a KKIO tensor (4, 4, cin, cout):
// tap t -> kernel position (ky, kx); row offset ((ky*4+kx)*cin + ci)*cout.
static gk_rowmap phase_weight_rows(int cin, int cout, int a, int b) {
  gk_rowmap r;
  memset(&r, 0, sizeof r);
  r.group = (size_t)cin; r.inner = (size_t)cout; r.ntab = 4;
  for (int t = 0; t < 4; t++) {
    int ry = a - 1 + (t >> 1), rx = b - 1 + (t & 1);
    int ky = 1 + a - 2 * ry, kx = 1 + b - 2 * rx;
    r.tab[t] = (size_t)(ky * 4 + kx) * cin * cout;
  }
  return r;
}

// Pixel rows (img, i, j) of phase (a, b) inside an (n, 2h, 2w, c) tensor.
static gk_rowmap phase_output_rows(int h, int w, int c, int a, int b) {
  gk_rowmap r;
  memset(&r, 0, sizeof r);
  (void)h;
  r.group = (size_t)w; r.inner = 2 * (size_t)c; r.outer = 4 * (size_t)w * c; r.ntab = 1;
  r.tab[0] = ((size_t)a * 2 * w + b) * c;
  return r;
}

static size_t max3(size_t a, size_t b, size_t c) { size_t m = a > b ? a : b; return m > c ? m : c; }

size_t gk_f32_deconv4s2_workspace_bytes(int n, int h, int w, int cin, int cout, int threads) {
  size_t pix = (size_t)n * h * w;
  size_t weights = cout <= GK_NARROW_MAX_COUT ? gk_f32_deconv4s2_narrow_backward_weights_bytes(n, cin, cout)
                                              : gk_f32_gemm_workspace_bytes(4 * (size_t)cin, cout, pix, threads);
  return max3(gk_f32_gemm_workspace_bytes(pix, cout, 4 * (size_t)cin, threads),
              gk_f32_gemm_workspace_bytes(pix, cin, 16 * (size_t)cout, threads), weights);
}

void gk_f32_deconv4s2_forward(int n, int h, int w, int cin, int cout, const float *x,
                              const float *wgt, const gk_epilogue *ep, float *y, void *workspace,
                              int threads) {
  size_t pix = (size_t)n * h * w;
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    gk_operand A; memset(&A, 0, sizeof A);
    A.kind = GK_OPERAND_WINDOW; A.data = x;
    phase_window(&A.win, h, w, cin, a, b);
    gk_operand B; memset(&B, 0, sizeof B);
    B.kind = GK_OPERAND_MATRIX; B.data = wgt; B.col_stride = 1;
    B.rows = phase_weight_rows(cin, cout, a, b);
    gk_output C = {y, phase_output_rows(h, w, cout, a, b)};
    gk_f32_gemm(pix, cout, 4 * (size_t)cin, &A, &B, &C, ep, workspace, threads);
  }
}

void gk_f32_deconv4s2_backward_data(int n, int h, int w, int cin, int cout, const float *dy,
                                    const float *wgt, float *dx, void *workspace, int threads) {
  // dx[i, j, ci] = sum_{ky, kx, co} dy[2i-1+ky, 2j-1+kx, co] * W[ky, kx, ci, co]:
  // a stride-2 convolution of dy; B rows (tap, co), columns ci.
  gk_operand A; memset(&A, 0, sizeof A);
  A.kind = GK_OPERAND_WINDOW; A.data = dy;
  gk_window_s2(&A.win, 2 * h, 2 * w, cout);
  gk_operand B; memset(&B, 0, sizeof B);
  B.kind = GK_OPERAND_MATRIX; B.data = wgt; B.col_stride = (size_t)cout;
  B.rows.group = (size_t)cout; B.rows.inner = 1; B.rows.outer = (size_t)cin * cout; B.rows.ntab = 1;
  gk_output C = gk_output_dense(dx, (size_t)cin);
  gk_f32_gemm((size_t)n * h * w, cin, 16 * (size_t)cout, &A, &B, &C, NULL, workspace, threads);
}

void gk_f32_deconv4s2_backward_weights(int n, int h, int w, int cin, int cout, const float *x,
                                       const float *dy, float *dw, int accumulate,
                                       void *workspace, int threads) {
  if (cout <= GK_NARROW_MAX_COUT) {  // the image layer: no im2col (deconv4s2-narrow.c)
    gk_f32_deconv4s2_narrow_backward_weights(n, h, w, cin, cout, x, dy, dw, accumulate, workspace, threads);
    return;
  }
  size_t pix = (size_t)n * h * w;
  gk_epilogue ep; memset(&ep, 0, sizeof ep);
  ep.accumulate = accumulate;
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    gk_operand A; memset(&A, 0, sizeof A);
    A.kind = GK_OPERAND_WINDOW_T; A.data = x;
    phase_window(&A.win, h, w, cin, a, b);
    gk_operand B; memset(&B, 0, sizeof B);
    B.kind = GK_OPERAND_MATRIX; B.data = dy; B.col_stride = 1;
    B.rows = phase_output_rows(h, w, cout, a, b);
    gk_output C = {dw, phase_weight_rows(cin, cout, a, b)};
    gk_f32_gemm(4 * (size_t)cin, cout, pix, &A, &B, &C, &ep, workspace, threads);
  }
}

size_t gk_f32_deconv4s2_packed_floats(int cin, int cout) {
  return 4 * gk_f32_gemm_packed_b_floats(4 * (size_t)cin, (size_t)cout);
}

void gk_f32_deconv4s2_pack_weights(int cin, int cout, const float *wgt, float *packed) {
  size_t per = gk_f32_gemm_packed_b_floats(4 * (size_t)cin, (size_t)cout);
  for (int phase = 0; phase < 4; phase++) {
    gk_operand B; memset(&B, 0, sizeof B);
    B.kind = GK_OPERAND_MATRIX; B.data = wgt; B.col_stride = 1;
    B.rows = phase_weight_rows(cin, cout, phase >> 1, phase & 1);
    gk_f32_gemm_pack_b(&B, 4 * (size_t)cin, (size_t)cout, packed + phase * per);
  }
}

void gk_f32_deconv4s2_forward_packed(int n, int h, int w, int cin, int cout, const float *x,
                                     const float *packed, const gk_epilogue *ep, float *y,
                                     void *workspace, int threads) {
  size_t pix = (size_t)n * h * w, k = 4 * (size_t)cin;
  size_t per = gk_f32_gemm_packed_b_floats(k, (size_t)cout);
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    gk_operand A; memset(&A, 0, sizeof A);
    A.kind = GK_OPERAND_WINDOW; A.data = x;
    phase_window(&A.win, h, w, cin, a, b);
    gk_operand B; memset(&B, 0, sizeof B);
    B.kind = GK_OPERAND_PACKED; B.data = packed + phase * per;
    B.packed_k = k; B.packed_n = (size_t)cout;
    B.packed_nr = gk_config()->gemm->nr;
    gk_output C = {y, phase_output_rows(h, w, cout, a, b)};
    gk_f32_gemm(pix, cout, k, &A, &B, &C, ep, workspace, threads);
  }
}

void gk_f32_deconv4s2_pack_torch_weights(int cin, int cout, const float *torch_wgt,
                                         const float *col_scale, float *packed) {
  // Phase rows (tap, ci) of a (cin, cout, 4, 4) tensor: offset (ci * cout + co) * 16 + ky * 4 + kx.
  size_t per = gk_f32_gemm_packed_b_floats(4 * (size_t)cin, (size_t)cout);
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    gk_operand B; memset(&B, 0, sizeof B);
    B.kind = GK_OPERAND_MATRIX; B.data = torch_wgt; B.col_stride = 16;
    B.rows.group = (size_t)cin; B.rows.inner = (size_t)cout * 16; B.rows.ntab = 4;
    for (int t = 0; t < 4; t++) {
      int ry = a - 1 + (t >> 1), rx = b - 1 + (t & 1);
      B.rows.tab[t] = (size_t)((1 + a - 2 * ry) * 4 + (1 + b - 2 * rx));
    }
    gk_f32_gemm_pack_b_scaled(&B, 4 * (size_t)cin, (size_t)cout, col_scale, packed + phase * per);
  }
}

int gk_seq_deconv4s2_packed(gk_seq_step *out, int n, int h, int w, int cin, int cout,
                            const float *x, const float *packed, const gk_epilogue *ep, float *y) {
  size_t k = 4 * (size_t)cin, per = gk_f32_gemm_packed_b_floats(k, (size_t)cout);
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    gk_seq_step *st = &out[phase];
    memset(st, 0, sizeof *st);
    st->kind = GK_STEP_GEMM;
    st->m = (size_t)n * h * w; st->n = (size_t)cout; st->k = k;
    st->a.kind = GK_OPERAND_WINDOW; st->a.data = x;
    phase_window(&st->a.win, h, w, cin, a, b);
    st->b.kind = GK_OPERAND_PACKED; st->b.data = packed + phase * per;
    st->b.packed_k = k; st->b.packed_n = (size_t)cout;
    st->b.packed_nr = gk_config()->gemm->nr;
    st->c.data = y; st->c.rows = phase_output_rows(h, w, cout, a, b);
    if (ep) st->ep = *ep;
    // The four phases write disjoint outputs from the same input: one group. Statistics would
    // be shared between them, so a statistics epilogue keeps them cooperative.
    st->group = (ep && ep->col_sum) ? 0 : 1;
  }
  return 4;
}
