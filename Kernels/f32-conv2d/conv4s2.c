// Conv2d(4, stride 2, pad 1): a 16-tap windowed GEMM (M = n*oh*ow, K = 16*cin, N = cout). Its
// backward-data is a transposed convolution of dy, done as four phase GEMMs.
#include "../common/gk_internal.h"

static size_t max3(size_t a, size_t b, size_t c) { size_t m = a > b ? a : b; return m > c ? m : c; }

size_t gk_f32_conv4s2_workspace_bytes(int n, int h, int w, int cin, int cout, int threads) {
  size_t opix = (size_t)n * (h / 2) * (w / 2);
  return max3(gk_f32_gemm_workspace_bytes(opix, cout, 16 * (size_t)cin, threads),
              gk_f32_gemm_workspace_bytes(opix, cin, 4 * (size_t)cout, threads),
              gk_f32_gemm_workspace_bytes(16 * (size_t)cin, cout, opix, threads));
}

void gk_f32_conv4s2_forward(int n, int h, int w, int cin, int cout, const float *x,
                            const float *wgt, const gk_epilogue *ep, float *y, void *workspace,
                            int threads) {
  gk_operand A; memset(&A, 0, sizeof A);
  A.kind = GK_OPERAND_WINDOW; A.data = x;
  gk_window_s2(&A.win, h, w, cin);
  gk_operand B = gk_operand_matrix(wgt, (size_t)cout);
  gk_output C = gk_output_dense(y, (size_t)cout);
  gk_f32_gemm((size_t)n * (h / 2) * (w / 2), cout, 16 * (size_t)cin, &A, &B, &C, ep, workspace,
              threads);
}

void gk_f32_conv4s2_backward_data(int n, int h, int w, int cin, int cout, const float *dy,
                                  const float *wgt, float *dx, void *workspace, int threads) {
  // dx is the ConvTranspose2d(4, 2, 1) of dy (n, h/2, w/2, cout) with W[ky, kx, ci, co] read as
  // (co -> ci): phase (a, b) of dx gathers dy rows i+r through ky = 1 + a - 2r.
  int oh = h / 2, ow = w / 2;
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    gk_operand A; memset(&A, 0, sizeof A);
    A.kind = GK_OPERAND_WINDOW; A.data = dy;
    gk_window *win = &A.win;
    win->h = oh; win->w = ow; win->c = cout; win->oh = oh; win->ow = ow; win->stride = 1;
    win->ntaps = 4;
    gk_operand B; memset(&B, 0, sizeof B);
    B.kind = GK_OPERAND_MATRIX; B.data = wgt; B.col_stride = (size_t)cout;
    B.rows.group = (size_t)cout; B.rows.inner = 1; B.rows.ntab = 4;
    for (int t = 0; t < 4; t++) {
      int ry = a - 1 + (t >> 1), rx = b - 1 + (t & 1);
      win->dy[t] = ry; win->dx[t] = rx;
      int ky = 1 + a - 2 * ry, kx = 1 + b - 2 * rx;
      B.rows.tab[t] = (size_t)(ky * 4 + kx) * cin * cout;
    }
    gk_output C; memset(&C, 0, sizeof C);
    C.data = dx;
    C.rows.group = (size_t)ow; C.rows.inner = 2 * (size_t)cin; C.rows.outer = 4 * (size_t)ow * cin;
    C.rows.ntab = 1; C.rows.tab[0] = ((size_t)a * 2 * ow + b) * cin;
    gk_f32_gemm((size_t)n * oh * ow, cin, 4 * (size_t)cout, &A, &B, &C, NULL, workspace, threads);
  }
}

void gk_f32_conv4s2_backward_weights(int n, int h, int w, int cin, int cout, const float *x,
                                     const float *dy, float *dw, int accumulate, void *workspace,
                                     int threads) {
  gk_operand A; memset(&A, 0, sizeof A);
  A.kind = GK_OPERAND_WINDOW_T; A.data = x;
  gk_window_s2(&A.win, h, w, cin);
  gk_operand B = gk_operand_matrix(dy, (size_t)cout);
  gk_output C = gk_output_dense(dw, (size_t)cout);
  gk_epilogue ep; memset(&ep, 0, sizeof ep);
  ep.accumulate = accumulate;
  gk_f32_gemm(16 * (size_t)cin, cout, (size_t)n * (h / 2) * (w / 2), &A, &B, &C, &ep, workspace,
              threads);
}
