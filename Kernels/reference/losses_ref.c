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
