// The SAGAN losses on the critic's logits (batch-sized vectors): hinge and the mean logit.
#include "../common/gk_internal.h"

double gk_f32_hinge_logits_ref(size_t count, const float *logits, float sign, float *grad, float grad_scale) {
  double loss = 0.0;
  for (size_t i = 0; i < count; i++) {
    double margin = 1.0 - (double)sign * logits[i];  // 1 - d (real), 1 + d (fake)
    if (margin > 0) loss += margin;
    // relu's gradient at 0 is 0, as in PyTorch.
    if (grad) grad[i] = margin > 0 ? (float)(-(double)sign / (double)count * grad_scale) : 0.0f;
  }
  return count ? loss / (double)count : 0.0;
}

double gk_f32_hinge_logits(size_t count, const float *logits, float sign, float *grad, float grad_scale) {
  // count is the batch size: the reference is the kernel.
  return gk_f32_hinge_logits_ref(count, logits, sign, grad, grad_scale);
}

double gk_f32_mean_logits_ref(size_t count, const float *logits, float *grad, float grad_scale) {
  double s = 0.0;
  for (size_t i = 0; i < count; i++) {
    s += logits[i];
    if (grad) grad[i] = (float)(grad_scale / (double)count);
  }
  return count ? s / (double)count : 0.0;
}

double gk_f32_mean_logits(size_t count, const float *logits, float *grad, float grad_scale) {
  return gk_f32_mean_logits_ref(count, logits, grad, grad_scale);
}

// MARK: - WGAN-GP and clipped WGAN

void gk_f32_mix_samples_ref(size_t n, size_t per, const float *a, const float *x, const float *y, float *out) {
  for (size_t i = 0; i < n; i++) {
    float ai = a[i], bi = 1.0f - a[i];  // PyTorch: alpha * real + (1 - alpha) * fake
    for (size_t e = 0; e < per; e++) {
      float p = ai * x[i * per + e], q = bi * y[i * per + e];
      out[i * per + e] = p + q;
    }
  }
}

void gk_f32_mix_samples(size_t n, size_t per, const float *a, const float *x, const float *y, float *out) {
  gk_f32_mix_samples_ref(n, per, a, x, y, out);
}

double gk_f32_gradient_penalty_ref(size_t n, size_t per, const float *g, float lambda, float *v, float *norms) {
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    double ss = 0;
    for (size_t e = 0; e < per; e++) ss += (double)g[i * per + e] * g[i * per + e];
    double norm = sqrt(ss), d = norm - 1;
    total += d * d;
    if (norms) norms[i] = (float)norm;
    // d/dg of lambda / n * (||g|| - 1)^2; at ||g|| = 0 the subgradient 0 (as PyTorch's norm).
    double f = norm > 0 ? 2.0 * lambda / (double)n * d / norm : 0;
    if (v)
      for (size_t e = 0; e < per; e++) v[i * per + e] = (float)(f * g[i * per + e]);
  }
  return n ? lambda * total / (double)n : 0;
}

double gk_f32_gradient_penalty(size_t n, size_t per, const float *g, float lambda, float *v, float *norms) {
  // n is the batch: the reference is the kernel.
  return gk_f32_gradient_penalty_ref(n, per, g, lambda, v, norms);
}

void gk_f32_clamp_ref(size_t n, float lo, float hi, float *x) {
  for (size_t i = 0; i < n; i++) x[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
}

void gk_f32_clamp(size_t n, float lo, float hi, float *x) { gk_f32_clamp_ref(n, lo, hi, x); }
