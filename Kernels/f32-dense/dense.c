// Dense layers: y (n, kout) = x (n, kin) * W (kin, kout), and its two gradients.
#include "../common/gk_internal.h"

static size_t max3(size_t a, size_t b, size_t c) { size_t m = a > b ? a : b; return m > c ? m : c; }

size_t gk_f32_dense_workspace_bytes(int n, int kin, int kout, int threads) {
  return max3(gk_f32_gemm_workspace_bytes(n, kout, kin, threads),
              gk_f32_gemm_workspace_bytes(n, kin, kout, threads),
              gk_f32_gemm_workspace_bytes(kin, kout, n, threads));
}

void gk_f32_dense_forward(int n, int kin, int kout, const float *x, const float *wgt,
                          const gk_epilogue *ep, float *y, void *workspace, int threads) {
  gk_operand A = gk_operand_matrix(x, (size_t)kin);
  gk_operand B = gk_operand_matrix(wgt, (size_t)kout);
  gk_output C = gk_output_dense(y, (size_t)kout);
  gk_f32_gemm(n, kout, kin, &A, &B, &C, ep, workspace, threads);
}

void gk_f32_dense_backward_data(int n, int kin, int kout, const float *dy, const float *wgt,
                                float *dx, void *workspace, int threads) {
  gk_operand A = gk_operand_matrix(dy, (size_t)kout);
  gk_operand B = gk_operand_matrix_t(wgt, (size_t)kout);
  gk_output C = gk_output_dense(dx, (size_t)kin);
  gk_f32_gemm(n, kin, kout, &A, &B, &C, NULL, workspace, threads);
}

void gk_f32_dense_backward_weights(int n, int kin, int kout, const float *x, const float *dy,
                                   float *dw, int accumulate, void *workspace, int threads) {
  gk_operand A = gk_operand_matrix_t(x, (size_t)kin);
  gk_operand B = gk_operand_matrix(dy, (size_t)kout);
  gk_output C = gk_output_dense(dw, (size_t)kout);
  gk_epilogue ep; memset(&ep, 0, sizeof ep);
  ep.accumulate = accumulate;
  gk_f32_gemm(kin, kout, n, &A, &B, &C, &ep, workspace, threads);
}

size_t gk_f32_dense_packed_floats(int kin, int kout) {
  return gk_f32_gemm_packed_b_floats((size_t)kin, (size_t)kout);
}

void gk_f32_dense_pack_weights(int kin, int kout, const float *wgt, float *packed) {
  gk_operand B = gk_operand_matrix(wgt, (size_t)kout);
  gk_f32_gemm_pack_b(&B, (size_t)kin, (size_t)kout, packed);
}

void gk_f32_dense_forward_packed(int n, int kin, int kout, const float *x, const float *packed,
                                 const gk_epilogue *ep, float *y, void *workspace, int threads) {
  gk_operand A = gk_operand_matrix(x, (size_t)kin);
  gk_operand B; memset(&B, 0, sizeof B);
  B.kind = GK_OPERAND_PACKED; B.data = packed;
  B.packed_k = (size_t)kin; B.packed_n = (size_t)kout;
  B.packed_nr = gk_config()->gemm->nr;
  gk_output C = gk_output_dense(y, (size_t)kout);
  gk_f32_gemm(n, kout, kin, &A, &B, &C, ep, workspace, threads);
}

int gk_seq_dense_packed(gk_seq_step *out, int n, int kin, int kout, const float *x,
                        const float *packed, const gk_epilogue *ep, float *y) {
  memset(out, 0, sizeof *out);
  out->kind = GK_STEP_GEMM;
  out->m = (size_t)n; out->n = (size_t)kout; out->k = (size_t)kin;
  out->a = gk_operand_matrix(x, (size_t)kin);
  out->b.kind = GK_OPERAND_PACKED; out->b.data = packed;
  out->b.packed_k = (size_t)kin; out->b.packed_n = (size_t)kout;
  out->b.packed_nr = gk_config()->gemm->nr;
  out->c = gk_output_dense(y, (size_t)kout);
  if (ep) out->ep = *ep;
  return 1;
}

int gk_seq_narrow(gk_seq_step *out, const gk_narrow_args *args) {
  memset(out, 0, sizeof *out);
  out->kind = GK_STEP_NARROW;
  out->narrow = *args;
  return 1;
}
