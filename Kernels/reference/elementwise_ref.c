// Scalar references of the streaming passes (the Swift SIMD kernels are tested against these).
#include "../common/gk_internal.h"

void gk_f32_bn_stats_ref(size_t rows, size_t c, const double *col_sum, const double *col_sumsq,
                         float eps, float momentum, float *save_mean, float *save_rstd,
                         float *running_mean, float *running_var) {
  for (size_t j = 0; j < c; j++) {
    double mean = col_sum[j] / (double)rows;
    double var = col_sumsq[j] / (double)rows - mean * mean;
    if (var < 0) var = 0;
    save_mean[j] = (float)mean;
    save_rstd[j] = (float)(1.0 / sqrt(var + (double)eps));
    if (running_mean) {
      double unbiased = rows > 1 ? var * (double)rows / (double)(rows - 1) : var;
      running_mean[j] = (float)((1.0 - momentum) * running_mean[j] + momentum * mean);
      running_var[j] = (float)((1.0 - momentum) * running_var[j] + momentum * unbiased);
    }
  }
}

void gk_f32_bn_apply_ref(size_t rows, size_t c, const float *x, const float *scale,
                         const float *shift, int act, float slope, float *y) {
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < c; j++) {
      float v = x[r * c + j] * scale[j] + shift[j];
      y[r * c + j] = gk_act_apply(v, act, slope);
    }
}

void gk_f32_bn_backward_ref(size_t rows, size_t c, const float *x, const float *y,
                            const float *dy, const float *save_mean, const float *save_rstd,
                            const float *gamma, int act, float slope, float *dx, float *dgamma,
                            float *dbeta, int accumulate) {
  for (size_t j = 0; j < c; j++) {
    double sg = 0.0, sgx = 0.0;
    for (size_t r = 0; r < rows; r++) {
      float g = dy[r * c + j];
      if (act == GK_ACT_RELU) g = y[r * c + j] > 0 ? g : 0.0f;
      if (act == GK_ACT_LRELU) g = y[r * c + j] > 0 ? g : g * slope;
      float xhat = (x[r * c + j] - save_mean[j]) * save_rstd[j];
      sg += g;
      sgx += (double)g * xhat;
    }
    float k = gamma[j] * save_rstd[j] / (float)rows;
    for (size_t r = 0; r < rows; r++) {
      float g = dy[r * c + j];
      if (act == GK_ACT_RELU) g = y[r * c + j] > 0 ? g : 0.0f;
      if (act == GK_ACT_LRELU) g = y[r * c + j] > 0 ? g : g * slope;
      float xhat = (x[r * c + j] - save_mean[j]) * save_rstd[j];
      dx[r * c + j] = k * ((float)rows * g - (float)sg - xhat * (float)sgx);
    }
    dgamma[j] = (accumulate ? dgamma[j] : 0.0f) + (float)sgx;
    dbeta[j] = (accumulate ? dbeta[j] : 0.0f) + (float)sg;
  }
}

float gk_tanhf(float x) { return gk_tanhf_inline(x); }

void gk_f32_tanh_ref(size_t count, const float *x, float *y) {
  for (size_t i = 0; i < count; i++) y[i] = tanhf(x[i]);
}

void gk_f32_tanh_backward_ref(size_t count, const float *y, const float *dy, float *dx) {
  for (size_t i = 0; i < count; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void gk_f32_act_backward_ref(size_t count, const float *y, const float *dy, float slope,
                             float *dx) {
  for (size_t i = 0; i < count; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * slope;
}

void gk_f32_act_ref(size_t count, const float *x, int act, float slope, float *y) {
  for (size_t i = 0; i < count; i++)
    y[i] = act == GK_ACT_TANH ? tanhf(x[i]) : gk_act_apply(x[i], act, slope);
}

double gk_f32_bce_logits_ref(size_t count, const float *logits, float target, float *grad,
                             float grad_scale) {
  double loss = 0.0;
  for (size_t i = 0; i < count; i++) {
    double x = logits[i];
    loss += (x > 0 ? x : 0) - x * target + log1p(exp(-fabs(x)));
    if (grad) {
      double s = 1.0 / (1.0 + exp(-x));
      grad[i] = (float)((s - target) / (double)count * grad_scale);
    }
  }
  return count ? loss / (double)count : 0.0;
}

double gk_f32_bce_logits(size_t count, const float *logits, float target, float *grad,
                         float grad_scale) {
  // count is the batch size (at most a few hundred): the reference is the kernel.
  return gk_f32_bce_logits_ref(count, logits, target, grad, grad_scale);
}

void gk_f32_adam_ref(size_t count, float *param, const float *grad, float *m, float *v,
                     float lr, float beta1, float beta2, float eps, int64_t step) {
  // torch.optim.Adam single-tensor path: m.lerp_(g, 1-b1); v = v*b2 + (1-b2)*g*g;
  // p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
  double bc1 = 1.0 - pow((double)beta1, (double)step);
  double bc2 = 1.0 - pow((double)beta2, (double)step);
  float step_size = (float)(lr / bc1);
  float bc2_sqrt = (float)sqrt(bc2);
  for (size_t i = 0; i < count; i++) {
    float g = grad[i];
    m[i] = m[i] + (1.0f - beta1) * (g - m[i]);
    v[i] = v[i] * beta2 + (1.0f - beta2) * g * g;
    float denom = sqrtf(v[i]) / bc2_sqrt + eps;
    param[i] = param[i] - step_size * (m[i] / denom);
  }
}

void gk_u8_to_f32_ref(size_t count, const uint8_t *src, float *dst) {
  for (size_t i = 0; i < count; i++) dst[i] = (float)src[i] / 127.5f - 1.0f;
}

void gk_f32_to_u8_ref(size_t count, const float *src, uint8_t *dst) {
  for (size_t i = 0; i < count; i++) {
    float v = (src[i] + 1.0f) * 127.5f;
    v = v < 0 ? 0 : (v > 255 ? 255 : v);
    dst[i] = (uint8_t)(v + 0.5f);
  }
}

void gk_f32_scale_add_ref(size_t count, float alpha, const float *x, const float *y, float *out) {
  for (size_t i = 0; i < count; i++) {
    float ax = alpha * x[i];  // rounded, then added: PyTorch's gamma * o + x
    out[i] = y ? ax + y[i] : ax;
  }
}

double gk_f32_dot_ref(size_t count, const float *x, const float *y) {
  double s = 0.0;
  for (size_t i = 0; i < count; i++) s += (double)x[i] * (double)y[i];
  return s;
}

void gk_f32_column_sums_ref(size_t rows, size_t cols, const float *x, float *out, int accumulate) {
  for (size_t j = 0; j < cols; j++) {
    double s = 0.0;
    for (size_t r = 0; r < rows; r++) s += x[r * cols + j];
    out[j] = (accumulate ? out[j] : 0.0f) + (float)s;
  }
}
