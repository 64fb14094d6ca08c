// CGanKernels, the SAGAN family: self-attention over positions (two GEMMs and a row softmax per
// image), spectral norm's power iteration and gradient, conditional BatchNorm, and the projection
// discriminator head. Included by gan_kernels.h (its conventions hold here); split out to keep
// each header under 600 lines.
#ifndef GAN_KERNELS_SAGAN_H
#define GAN_KERNELS_SAGAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Self-attention (SAGAN) and spectral norm

/// Row softmax: y[r, j] = exp(x[r, j] - max_j x[r, :]) / sum_j exp(...), rows x n row-major; y may
/// be x. Backward: dx[r, j] = y[r, j] * (dy[r, j] - sum_k dy[r, k] y[r, k]); dx may be dy.
void gk_f32_softmax_rows_ref(size_t rows, size_t n, const float *x, float *y);
void gk_f32_softmax_backward_rows_ref(size_t rows, size_t n, const float *y, const float *dy, float *dx);
/// The same through the configured variant, rows split over `threads` (each row on one thread).
void gk_f32_softmax_rows(size_t rows, size_t n, const float *x, float *y, int threads);
void gk_f32_softmax_backward_rows(size_t rows, size_t n, const float *y, const float *dy, float *dx,
                                  int threads);
typedef struct gk_softmax_variant {
  const char *name;
  unsigned requires;
  int available;
  void (*rows)(size_t rows, size_t n, const float *x, float *y);
  void (*backward_rows)(size_t rows, size_t n, const float *y, const float *dy, float *dx);
} gk_softmax_variant;
int gk_softmax_variant_count(void);
const gk_softmax_variant *gk_softmax_variant_at(int index);
int gk_softmax_selected_variant(void);
void gk_softmax_force_variant(int index);

/// Self-attention over the npos = H*W positions of each of n images (Zhang et al. 2018):
/// S = Q K^T (npos x npos), A = softmax over each row of S, O = A V. q, k: (n, npos, cq) and
/// v, o: (n, npos, cv), row-major (NHWC activations seen as positions x channels); attn:
/// (n, npos, npos), written, and kept for the backward pass. Two GEMMs and a row softmax per image.
size_t gk_f32_attention_workspace_bytes(int n, int npos, int cq, int cv, int threads);
void gk_f32_attention_forward(int n, int npos, int cq, int cv, const float *q, const float *k,
                              const float *v, float *attn, float *o, void *workspace, int threads);
/// From dO (n, npos, cv): dV = A^T dO, dA = dO V^T, dS = softmax backward of dA (written to ds,
/// n x npos x npos), dQ = dS K, dK = dS^T Q. dq, dk, dv are overwritten.
void gk_f32_attention_backward(int n, int npos, int cq, int cv, const float *q, const float *k,
                               const float *v, const float *attn, const float *dout, float *ds,
                               float *dq, float *dk, float *dv, void *workspace, int threads);
/// Direct loops: the oracle.
void gk_f32_attention_forward_ref(int n, int npos, int cq, int cv, const float *q, const float *k,
                                  const float *v, float *attn, float *o);
void gk_f32_attention_backward_ref(int n, int npos, int cq, int cv, const float *q, const float *k,
                                   const float *v, const float *attn, const float *dout, float *ds,
                                   float *dq, float *dk, float *dv);

/// The double backward of the attention core (WGAN-GP's penalty gradient): the first backward
/// maps (q, k, v, dO) to (dQ, dK, dV) through A = softmax(Q K^T) and dS (kept from
/// gk_f32_attention_forward and _backward); given adjoints gdq, gdk (n, npos, cq) and gdv
/// (n, npos, cv) of its outputs, this writes the adjoints of its inputs: gq, gk, gv and gdout
/// (overwritten). Per image, with T the adjoint of dS, dA = dO V^T, r = rowsum(dA A),
/// t = rowsum(T A): T = gdq K^T + Q gdk^T; gq = dS gdk + S' K; gk = dS^T gdq + S'^T Q with
/// S' = softmax backward of A' = T (dA - r) - dA t + dO gdv^T; E = A (T - t); gv = E^T dO;
/// gdout = A gdv + E V.
size_t gk_f32_attention_double_backward_workspace_bytes(int n, int npos, int cq, int cv, int threads);
void gk_f32_attention_double_backward(int n, int npos, int cq, int cv, const float *q, const float *k,
                                      const float *v, const float *attn, const float *dout, const float *ds,
                                      const float *gdq, const float *gdk, const float *gdv, float *gq, float *gk,
                                      float *gv, float *gdout, void *workspace, int threads);
/// Direct loops in double: the oracle. scratch: 3 npos^2 + 2 npos doubles.
void gk_f32_attention_double_backward_ref(int n, int npos, int cq, int cv, const float *q, const float *k,
                                          const float *v, const float *attn, const float *dout, const float *ds,
                                          const float *gdq, const float *gdk, const float *gdv, float *gq, float *gk,
                                          float *gv, float *gdout, double *scratch);

/// Spectral norm (torch.nn.utils.spectral_norm) of a weight seen as the matrix W (rows x cols):
/// element (o, r) at w[o * row_stride + r * col_stride], so any layout serves (KKIO convolution
/// weights: row = output channel, row_stride 1, col_stride cout). u: rows, v: cols (in this
/// column order). With power_iteration set, first v = normalize(W^T u), u = normalize(W v)
/// (normalize: x / max(||x||, eps)), both updated in place; then sigma = u . (W v), returned.
/// wv: scratch of rows floats. w_sn (NULL, or laid out like w) receives W / sigma.
float gk_f32_spectral_norm(int rows, int cols, const float *w, size_t row_stride, size_t col_stride,
                           float *u, float *v, int power_iteration, float eps, float *wv, float *w_sn);
float gk_f32_spectral_norm_ref(int rows, int cols, const float *w, size_t row_stride, size_t col_stride,
                               float *u, float *v, int power_iteration, float eps, float *wv, float *w_sn);
/// The gradient through W / sigma(W) with u, v held constant (they are computed without grad):
/// dW = dW_sn / sigma - (<dW_sn, W> / sigma^2) u v^T, dw laid out like w (accumulate: added).
void gk_f32_spectral_norm_backward(int rows, int cols, const float *w, size_t row_stride, size_t col_stride,
                                   const float *u, const float *v, float sigma, const float *dw_sn,
                                   float *dw, int accumulate);
void gk_f32_spectral_norm_backward_ref(int rows, int cols, const float *w, size_t row_stride,
                                       size_t col_stride, const float *u, const float *v, float sigma,
                                       const float *dw_sn, float *dw, int accumulate);

// MARK: - Conditional BatchNorm and the projection head (class-conditional SAGAN)

/// Conditional BatchNorm2d (BatchNorm without affine, then per-class gain and bias): for image
/// i of n with class labels[i], scale[i, c] = gain[labels[i], c] * rstd[c] and shift[i, c] =
/// bias[labels[i], c] - mean[c] * scale[i, c]; gk_f32_bn_apply over image i's rows with row i of
/// scale and shift then gives y = act(xhat * gain + bias).
void gk_f32_cbn_scale_shift(int n, int c, const int32_t *labels, const float *gain, const float *bias,
                            const float *mean, const float *rstd, float *scale, float *shift);
/// y = act(x * scale[r] + shift[r]) image by image (n images of rows_per_image rows x c, NHWC),
/// r the image's row of scale and shift: rows[i], or i when rows is NULL (training: one row per
/// image from gk_f32_cbn_scale_shift; inference: the class's row of per-class tables). y may be x.
void gk_f32_cbn_apply(int n, int rows_per_image, int c, const float *x, const float *scale, const float *shift,
                      const int32_t *rows, int act, float slope, float *y);
void gk_f32_cbn_apply_ref(int n, int rows_per_image, int c, const float *x, const float *scale, const float *shift,
                          const int32_t *rows, int act, float slope, float *y);
/// Backward of y = act(xhat * gain[label] + bias[label]), xhat normalized with the batch's
/// statistics (n images x rows_per_image rows x c, NHWC): G = dy * act'(y);
/// dgain[k, c] (+)= sum over images of class k of sum G * xhat; dbias[k, c] (+)= sum G;
/// dx = rstd / M * (M * G * gain[label] - sum_i gain[label_i] S_i - xhat * sum_i gain[label_i] T_i)
/// with S_i, T_i image i's sums of G and G * xhat, M = n * rows_per_image. Sums in double in a
/// fixed order. scratch: (2 * n + 2) * c doubles. dgain, dbias: (classes x c), added to when
/// accumulate, else overwritten (rows of classes absent from the batch become 0).
void gk_f32_cbn_backward(int n, int rows_per_image, int c, int classes, const int32_t *labels, const float *x,
                         const float *y, const float *dy, const float *mean, const float *rstd,
                         const float *gain, int act, float slope, float *dx, float *dgain, float *dbias,
                         int accumulate, double *scratch);
/// The same in two halves, for synchronized BatchNorm across ranks (data-parallel training): the
/// sums (pass 1: dgain, dbias from this batch; the batch-wide a, b into scratch's last 2 c
/// doubles, which a caller may sum over ranks), then dx with total_rows = M over all ranks.
void gk_f32_cbn_backward_sums(int n, int rows_per_image, int c, int classes, const int32_t *labels, const float *x,
                              const float *y, const float *dy, const float *mean, const float *rstd,
                              const float *gain, int act, float slope, float *dgain, float *dbias, int accumulate,
                              double *scratch);
void gk_f32_cbn_backward_dx(int n, int rows_per_image, size_t total_rows, int c, const int32_t *labels,
                            const float *x, const float *y, const float *dy, const float *mean, const float *rstd,
                            const float *gain, int act, float slope, float *dx, const double *scratch);
void gk_f32_cbn_backward_ref(int n, int rows_per_image, int c, int classes, const int32_t *labels, const float *x,
                             const float *y, const float *dy, const float *mean, const float *rstd,
                             const float *gain, int act, float slope, float *dx, float *dgain, float *dbias,
                             int accumulate);
/// Projection discriminator head (Miyato & Koyama 2018): logit[i] += <embed[labels[i]], sum over
/// the rows_per_image positions of h[i]>, h (n, rows_per_image, c) NHWC, embed (classes x c).
void gk_f32_projection_forward(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                               const float *embed, float *logit);
/// From dlogit (n): dh[i, p, c] (+)= dlogit[i] * embed[labels[i], c] (accumulate_dh), and
/// dembed[labels[i], c] += dlogit[i] * sum_p h[i, p, c] (always added: zero it first).
void gk_f32_projection_backward(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                                const float *embed, const float *dlogit, float *dh, int accumulate_dh,
                                float *dembed);
void gk_f32_projection_forward_ref(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                                   const float *embed, float *logit);
void gk_f32_projection_backward_ref(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                                    const float *embed, const float *dlogit, float *dh, int accumulate_dh,
                                    float *dembed);

// MARK: - The SAGAN's small passes and losses

/// out[i] = alpha * x[i] + y[i], the product rounded before the sum (PyTorch's gamma * o + x);
/// y NULL: out[i] = alpha * x[i]. out may be x or y.
void gk_f32_scale_add(size_t count, float alpha, const float *x, const float *y, float *out);
void gk_f32_scale_add_ref(size_t count, float alpha, const float *x, const float *y, float *out);
/// sum_i x[i] y[i] in double (the reference in index order; the kernel in four interleaved sums).
double gk_f32_dot(size_t count, const float *x, const float *y);
double gk_f32_dot_ref(size_t count, const float *x, const float *y);
/// out[j] (+)= sum over r of x[r * cols + j] (rows x cols row-major), each sum in double in row
/// order (bias gradients of 1x1 convolutions over NHWC positions). accumulate: add to out.
void gk_f32_column_sums(size_t rows, size_t cols, const float *x, float *out, int accumulate);
void gk_f32_column_sums_ref(size_t rows, size_t cols, const float *x, float *out, int accumulate);
/// Hinge loss of a critic's logits d: sign +1 (real) mean(relu(1 - d)), sign -1 (fake)
/// mean(relu(1 + d)); grad (optional) receives d(loss)/d(d) * grad_scale (0 where relu is 0).
double gk_f32_hinge_logits(size_t count, const float *logits, float sign, float *grad, float grad_scale);
double gk_f32_hinge_logits_ref(size_t count, const float *logits, float sign, float *grad, float grad_scale);
/// mean(d); grad (optional) receives grad_scale / count everywhere (the generator's -E[D]:
/// grad_scale -1).
double gk_f32_mean_logits(size_t count, const float *logits, float *grad, float grad_scale);
double gk_f32_mean_logits_ref(size_t count, const float *logits, float *grad, float grad_scale);

/// WGAN-GP's mixes: out[i, :] = a[i] * x[i, :] + (1 - a[i]) * y[i, :] for n samples of `per`
/// floats (PyTorch's alpha * real + (1 - alpha) * fake, each product rounded).
void gk_f32_mix_samples(size_t n, size_t per, const float *a, const float *x, const float *y, float *out);
void gk_f32_mix_samples_ref(size_t n, size_t per, const float *a, const float *x, const float *y, float *out);
/// The gradient penalty lambda / n * sum_i (||g_i|| - 1)^2 over n samples' input gradients g_i
/// (`per` floats each), returned; v (optional) receives its gradient with respect to g (0 for a
/// sample whose gradient is exactly 0), norms (optional) the ||g_i||. Sums in double.
double gk_f32_gradient_penalty(size_t n, size_t per, const float *g, float lambda, float *v, float *norms);
double gk_f32_gradient_penalty_ref(size_t n, size_t per, const float *g, float lambda, float *v, float *norms);
/// x = min(max(x, lo), hi): the original WGAN's weight clipping.
void gk_f32_clamp(size_t n, float lo, float hi, float *x);
void gk_f32_clamp_ref(size_t n, float lo, float hi, float *x);

#ifdef __cplusplus
}
#endif

#endif
