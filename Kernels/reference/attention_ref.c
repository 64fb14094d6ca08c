// Scalar references for the SAGAN kernels: row softmax and its backward, self-attention forward
// and backward by direct loops, spectral norm's power iteration and gradient. Oracles for the
// tests and the scalar entry of the softmax variant table.
#include "../common/gk_internal.h"

void gk_f32_softmax_rows_ref(size_t rows, size_t n, const float *x, float *y) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float m = -INFINITY;
    for (size_t j = 0; j < n; j++) m = xr[j] > m ? xr[j] : m;
    float sum = 0;
    for (size_t j = 0; j < n; j++) { yr[j] = expf(xr[j] - m); sum += yr[j]; }
    float inv = 1.0f / sum;
    for (size_t j = 0; j < n; j++) yr[j] *= inv;
  }
}

void gk_f32_softmax_backward_rows_ref(size_t rows, size_t n, const float *y, const float *dy, float *dx) {
  for (size_t r = 0; r < rows; r++) {
    const float *yr = y + r * n, *gr = dy + r * n;
    float *dr = dx + r * n;
    float dot = 0;
    for (size_t j = 0; j < n; j++) dot += gr[j] * yr[j];
    for (size_t j = 0; j < n; j++) dr[j] = yr[j] * (gr[j] - dot);
  }
}

void gk_f32_attention_forward_ref(int n, int npos, int cq, int cv, const float *q, const float *k,
                                  const float *v, float *attn, float *o) {
  size_t P = (size_t)npos;
  for (int b = 0; b < n; b++) {
    const float *qb = q + b * P * cq, *kb = k + b * P * cq, *vb = v + b * P * cv;
    float *ab = attn + b * P * P, *ob = o + b * P * cv;
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < P; j++) {
        float s = 0;
        for (int c = 0; c < cq; c++) s += qb[i * cq + c] * kb[j * cq + c];
        ab[i * P + j] = s;
      }
    gk_f32_softmax_rows_ref(P, P, ab, ab);
    for (size_t i = 0; i < P; i++)
      for (int c = 0; c < cv; c++) {
        float s = 0;
        for (size_t j = 0; j < P; j++) s += ab[i * P + j] * vb[j * cv + c];
        ob[i * cv + c] = s;
      }
  }
}

void gk_f32_attention_backward_ref(int n, int npos, int cq, int cv, const float *q, const float *k,
                                   const float *v, const float *attn, const float *dout, float *ds,
                                   float *dq, float *dk, float *dv) {
  size_t P = (size_t)npos;
  for (int b = 0; b < n; b++) {
    const float *qb = q + b * P * cq, *kb = k + b * P * cq, *vb = v + b * P * cv;
    const float *ab = attn + b * P * P, *gb = dout + b * P * cv;
    float *sb = ds + b * P * P, *dqb = dq + b * P * cq, *dkb = dk + b * P * cq, *dvb = dv + b * P * cv;
    for (size_t j = 0; j < P; j++)  // dV[j, c] = sum_i A[i, j] dO[i, c]
      for (int c = 0; c < cv; c++) {
        float s = 0;
        for (size_t i = 0; i < P; i++) s += ab[i * P + j] * gb[i * cv + c];
        dvb[j * cv + c] = s;
      }
    for (size_t i = 0; i < P; i++)  // dA[i, j] = dO[i, :] . V[j, :]
      for (size_t j = 0; j < P; j++) {
        float s = 0;
        for (int c = 0; c < cv; c++) s += gb[i * cv + c] * vb[j * cv + c];
        sb[i * P + j] = s;
      }
    gk_f32_softmax_backward_rows_ref(P, P, ab, sb, sb);
    for (size_t i = 0; i < P; i++)  // dQ[i, c] = sum_j dS[i, j] K[j, c]
      for (int c = 0; c < cq; c++) {
        float s = 0;
        for (size_t j = 0; j < P; j++) s += sb[i * P + j] * kb[j * cq + c];
        dqb[i * cq + c] = s;
      }
    for (size_t j = 0; j < P; j++)  // dK[j, c] = sum_i dS[i, j] Q[i, c]
      for (int c = 0; c < cq; c++) {
        float s = 0;
        for (size_t i = 0; i < P; i++) s += sb[i * P + j] * qb[i * cq + c];
        dkb[j * cq + c] = s;
      }
  }
}

static void normalize_ref(int count, float *x, float eps) {
  float ss = 0;
  for (int i = 0; i < count; i++) ss += x[i] * x[i];
  float norm = sqrtf(ss);
  float d = norm > eps ? norm : eps;
  for (int i = 0; i < count; i++) x[i] /= d;
}

float gk_f32_spectral_norm_ref(int rows, int cols, const float *w, size_t rs, size_t cs, float *u, float *v,
                               int power_iteration, float eps, float *wv, float *w_sn) {
  if (power_iteration) {
    for (int r = 0; r < cols; r++) {
      float s = 0;
      for (int o = 0; o < rows; o++) s += w[o * rs + r * cs] * u[o];
      v[r] = s;
    }
    normalize_ref(cols, v, eps);
  }
  for (int o = 0; o < rows; o++) {
    float s = 0;
    for (int r = 0; r < cols; r++) s += w[o * rs + r * cs] * v[r];
    wv[o] = s;
  }
  if (power_iteration) {
    for (int o = 0; o < rows; o++) u[o] = wv[o];
    normalize_ref(rows, u, eps);
  }
  float sigma = 0;
  for (int o = 0; o < rows; o++) sigma += u[o] * wv[o];
  if (w_sn)
    for (int o = 0; o < rows; o++)
      for (int r = 0; r < cols; r++) w_sn[o * rs + r * cs] = w[o * rs + r * cs] / sigma;
  return sigma;
}

void gk_f32_spectral_norm_backward_ref(int rows, int cols, const float *w, size_t rs, size_t cs, const float *u,
                                       const float *v, float sigma, const float *dw_sn, float *dw,
                                       int accumulate) {
  double dot = 0;
  for (int o = 0; o < rows; o++)
    for (int r = 0; r < cols; r++) dot += (double)dw_sn[o * rs + r * cs] * w[o * rs + r * cs];
  float c = (float)(dot / ((double)sigma * sigma));
  for (int o = 0; o < rows; o++)
    for (int r = 0; r < cols; r++) {
      size_t i = o * rs + r * cs;
      float g = dw_sn[i] / sigma - c * u[o] * v[r];
      dw[i] = accumulate ? dw[i] + g : g;
    }
}

// Conditional BatchNorm backward by its definition, channel by channel, sums in double.
void gk_f32_cbn_backward_ref(int n, int rows_per_image, int c, int classes, const int32_t *labels, const float *x,
                             const float *y, const float *dy, const float *mean, const float *rstd,
                             const float *gain, int act, float slope, float *dx, float *dgain, float *dbias,
                             int accumulate) {
  size_t P = (size_t)rows_per_image, M = (size_t)n * P;
  if (!accumulate)
    for (size_t e = 0; e < (size_t)classes * c; e++) { dgain[e] = 0; dbias[e] = 0; }
  for (int j = 0; j < c; j++) {
    double sum_gd = 0, sum_gdx = 0;  // sums of dxhat = G * gain and of dxhat * xhat over the batch
    for (size_t r = 0; r < M; r++) {
      size_t o = r * c + j;
      int k = labels[r / P];
      float g = gk_act_grad(dy[o], y[o], act, slope);
      float xhat = (x[o] - mean[j]) * rstd[j];
      dgain[(size_t)k * c + j] += g * xhat;
      dbias[(size_t)k * c + j] += g;
      sum_gd += (double)g * gain[(size_t)k * c + j];
      sum_gdx += (double)g * gain[(size_t)k * c + j] * xhat;
    }
    for (size_t r = 0; r < M; r++) {
      size_t o = r * c + j;
      int k = labels[r / P];
      float g = gk_act_grad(dy[o], y[o], act, slope);
      float xhat = (x[o] - mean[j]) * rstd[j];
      dx[o] = (float)(rstd[j] / (double)M * ((double)M * g * gain[(size_t)k * c + j] - sum_gd - xhat * sum_gdx));
    }
  }
}

void gk_f32_projection_forward_ref(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                                   const float *embed, float *logit) {
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int p = 0; p < rows_per_image; p++)
      for (int j = 0; j < c; j++) s += (double)h[((size_t)i * rows_per_image + p) * c + j] * embed[(size_t)labels[i] * c + j];
    logit[i] += (float)s;
  }
}

void gk_f32_projection_backward_ref(int n, int rows_per_image, int c, const int32_t *labels, const float *h,
                                    const float *embed, const float *dlogit, float *dh, int accumulate_dh,
                                    float *dembed) {
  for (int i = 0; i < n; i++)
    for (int p = 0; p < rows_per_image; p++)
      for (int j = 0; j < c; j++) {
        size_t o = ((size_t)i * rows_per_image + p) * c + j;
        float g = dlogit[i] * embed[(size_t)labels[i] * c + j];
        dh[o] = accumulate_dh ? dh[o] + g : g;
        dembed[(size_t)labels[i] * c + j] += dlogit[i] * h[o];
      }
}

void gk_f32_cbn_apply_ref(int n, int rows_per_image, int c, const float *x, const float *scale, const float *shift,
                          const int32_t *rows, int act, float slope, float *y) {
  for (int i = 0; i < n; i++) {
    size_t r = rows ? (size_t)rows[i] : (size_t)i, off = (size_t)i * rows_per_image * c;
    gk_f32_bn_apply_ref((size_t)rows_per_image, (size_t)c, x + off, scale + r * c, shift + r * c, act, slope,
                        y + off);
  }
}

void gk_f32_attention_double_backward_ref(int n, int npos, int cq, int cv, const float *q, const float *k,
                                          const float *v, const float *attn, const float *dout, const float *ds,
                                          const float *gdq, const float *gdk, const float *gdv, float *gq, float *gk,
                                          float *gv, float *gdout, double *scratch) {
  size_t P = (size_t)npos;
  double *T = scratch, *D = T + P * P, *E = D + P * P, *r = E + P * P, *t = r + P;
  for (int b = 0; b < n; b++) {
    const float *qb = q + b * P * cq, *kb = k + b * P * cq, *vb = v + b * P * cv, *ab = attn + b * P * P;
    const float *ob = dout + b * P * cv, *sb = ds + b * P * P;
    const float *xq = gdq + b * P * cq, *xk = gdk + b * P * cq, *xv = gdv + b * P * cv;
    float *oq = gq + b * P * cq, *ok = gk + b * P * cq, *ov = gv + b * P * cv, *oo = gdout + b * P * cv;
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < P; j++) {
        double s = 0, d = 0;  // T: adjoint of dS (from dQ = dS K, dK = dS^T Q); D = dA = dO V^T
        for (int c = 0; c < cq; c++) s += (double)xq[i * cq + c] * kb[j * cq + c] + (double)qb[i * cq + c] * xk[j * cq + c];
        for (int c = 0; c < cv; c++) d += (double)ob[i * cv + c] * vb[j * cv + c];
        T[i * P + j] = s;
        D[i * P + j] = d;
      }
    for (size_t i = 0; i < P; i++) {
      r[i] = 0; t[i] = 0;
      for (size_t j = 0; j < P; j++) { r[i] += D[i * P + j] * ab[i * P + j]; t[i] += T[i * P + j] * ab[i * P + j]; }
    }
    // E: adjoint of dA (dS = A (dA - r)); T becomes the adjoint of A: through dS, then dV = A^T dO.
    for (size_t i = 0; i < P; i++)
      for (size_t j = 0; j < P; j++) {
        size_t o = i * P + j;
        E[o] = ab[o] * (T[o] - t[i]);
        double a = T[o] * (D[o] - r[i]) - D[o] * t[i];
        for (int c = 0; c < cv; c++) a += (double)ob[i * cv + c] * xv[j * cv + c];
        T[o] = a;
      }
    // Through A = softmax(S): S's adjoint.
    for (size_t i = 0; i < P; i++) {
      double u = 0;
      for (size_t j = 0; j < P; j++) u += T[i * P + j] * ab[i * P + j];
      for (size_t j = 0; j < P; j++) T[i * P + j] = ab[i * P + j] * (T[i * P + j] - u);
    }
    for (size_t i = 0; i < P; i++)  // gq = dS gdk + S_adj K
      for (int c = 0; c < cq; c++) {
        double s = 0;
        for (size_t j = 0; j < P; j++) s += (double)sb[i * P + j] * xk[j * cq + c] + T[i * P + j] * kb[j * cq + c];
        oq[i * cq + c] = (float)s;
      }
    for (size_t j = 0; j < P; j++)  // gk = dS^T gdq + S_adj^T Q
      for (int c = 0; c < cq; c++) {
        double s = 0;
        for (size_t i = 0; i < P; i++) s += (double)sb[i * P + j] * xq[i * cq + c] + T[i * P + j] * qb[i * cq + c];
        ok[j * cq + c] = (float)s;
      }
    for (size_t j = 0; j < P; j++)  // gv = E^T dO
      for (int c = 0; c < cv; c++) {
        double s = 0;
        for (size_t i = 0; i < P; i++) s += E[i * P + j] * ob[i * cv + c];
        ov[j * cv + c] = (float)s;
      }
    for (size_t i = 0; i < P; i++)  // gdo = A gdv + E V
      for (int c = 0; c < cv; c++) {
        double s = 0;
        for (size_t j = 0; j < P; j++) s += (double)ab[i * P + j] * xv[j * cv + c] + E[i * P + j] * vb[j * cv + c];
        oo[i * cv + c] = (float)s;
      }
  }
}
