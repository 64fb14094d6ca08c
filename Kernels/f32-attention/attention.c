// Self-attention (SAGAN) forward and backward as GEMMs over each image's positions plus the row
// softmax of the configured variant; spectral norm's power iteration and gradient (matrix-vector
// work: at most a few million multiply-adds per layer, no threads).
#include "../common/gk_internal.h"

typedef struct {
  size_t rows, n;
  const float *x, *dy;
  float *y;
  int backward;
} softmax_job;

static void softmax_body(void *ctx, int tid, int nth) {
  const softmax_job *j = ctx;
  size_t lo = j->rows * (size_t)tid / (size_t)nth, hi = j->rows * (size_t)(tid + 1) / (size_t)nth;
  if (lo == hi) return;
  const gk_softmax_variant *v = gk_config()->softmax;
  if (j->backward)
    v->backward_rows(hi - lo, j->n, j->x + lo * j->n, j->dy + lo * j->n, j->y + lo * j->n);
  else
    v->rows(hi - lo, j->n, j->x + lo * j->n, j->y + lo * j->n);
}

void gk_f32_softmax_rows(size_t rows, size_t n, const float *x, float *y, int threads) {
  softmax_job j = {rows, n, x, NULL, y, 0};
  gk_run_parallel(threads, softmax_body, &j);
}

void gk_f32_softmax_backward_rows(size_t rows, size_t n, const float *y, const float *dy, float *dx,
                                  int threads) {
  softmax_job j = {rows, n, y, dy, dx, 1};
  gk_run_parallel(threads, softmax_body, &j);
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

// One image's GEMMs at `threads` (work split over outputs: the same bits for any count).
static size_t image_workspace_bytes(size_t P, int cq, int cv, int threads) {
  size_t w = 0;
  w = max_size(w, gk_f32_gemm_workspace_bytes(P, P, (size_t)cq, threads));  // S = Q K^T
  w = max_size(w, gk_f32_gemm_workspace_bytes(P, (size_t)cv, P, threads));  // O = A V, dV = A^T dO
  w = max_size(w, gk_f32_gemm_workspace_bytes(P, P, (size_t)cv, threads));  // dA = dO V^T
  w = max_size(w, gk_f32_gemm_workspace_bytes(P, (size_t)cq, P, threads));  // dQ, dK
  return (w + 63) & ~(size_t)63;
}

// With at least as many images as threads, each thread takes whole images (single-threaded
// GEMMs in its own workspace slice: no barrier per GEMM); with fewer, images go one by one and
// every GEMM is split over the threads. Both give the same bits.
size_t gk_f32_attention_workspace_bytes(int n, int npos, int cq, int cv, int threads) {
  (void)n;
  size_t P = (size_t)npos;
  return max_size(image_workspace_bytes(P, cq, cv, threads), (size_t)threads * image_workspace_bytes(P, cq, cv, 1));
}

typedef struct {
  int n, cq, cv, backward;
  size_t P;
  const float *q, *k, *v, *dout;
  float *attn, *o, *ds, *dq, *dk, *dv;
  char *workspace;
  size_t slice;
} attention_job;

static void attention_image(const attention_job *j, int b, void *ws, int threads) {
  size_t P = j->P;
  int cq = j->cq, cv = j->cv;
  const float *qb = j->q + b * P * cq, *kb = j->k + b * P * cq, *vb = j->v + b * P * cv;
  float *ab = j->attn + b * P * P;
  if (!j->backward) {
    float *ob = j->o + b * P * cv;
    gk_operand Q = gk_operand_matrix(qb, (size_t)cq), KT = gk_operand_matrix_t(kb, (size_t)cq);
    gk_output S = gk_output_dense(ab, P);
    gk_f32_gemm(P, P, (size_t)cq, &Q, &KT, &S, NULL, ws, threads);
    gk_f32_softmax_rows(P, P, ab, ab, threads);
    gk_operand A = gk_operand_matrix(ab, P), V = gk_operand_matrix(vb, (size_t)cv);
    gk_output O = gk_output_dense(ob, (size_t)cv);
    gk_f32_gemm(P, (size_t)cv, P, &A, &V, &O, NULL, ws, threads);
    return;
  }
  const float *gb = j->dout + b * P * cv;
  float *sb = j->ds + b * P * P;
  gk_operand AT = gk_operand_matrix_t(ab, P), G = gk_operand_matrix(gb, (size_t)cv);
  gk_output DV = gk_output_dense(j->dv + b * P * cv, (size_t)cv);
  gk_f32_gemm(P, (size_t)cv, P, &AT, &G, &DV, NULL, ws, threads);
  gk_operand VT = gk_operand_matrix_t(vb, (size_t)cv);
  gk_output DA = gk_output_dense(sb, P);
  gk_f32_gemm(P, P, (size_t)cv, &G, &VT, &DA, NULL, ws, threads);
  gk_f32_softmax_backward_rows(P, P, ab, sb, sb, threads);
  gk_operand DS = gk_operand_matrix(sb, P), K = gk_operand_matrix(kb, (size_t)cq);
  gk_output DQ = gk_output_dense(j->dq + b * P * cq, (size_t)cq);
  gk_f32_gemm(P, (size_t)cq, P, &DS, &K, &DQ, NULL, ws, threads);
  gk_operand DST = gk_operand_matrix_t(sb, P), Q = gk_operand_matrix(qb, (size_t)cq);
  gk_output DK = gk_output_dense(j->dk + b * P * cq, (size_t)cq);
  gk_f32_gemm(P, (size_t)cq, P, &DST, &Q, &DK, NULL, ws, threads);
}

static void attention_body(void *ctx, int tid, int nth) {
  const attention_job *j = ctx;
  for (int b = tid; b < j->n; b += nth) attention_image(j, b, j->workspace + (size_t)tid * j->slice, 1);
}

static void attention_run(attention_job *j, void *workspace, int threads) {
  if (threads > 1 && j->n >= threads) {
    j->workspace = workspace;
    j->slice = image_workspace_bytes(j->P, j->cq, j->cv, 1);
    gk_run_parallel(threads, attention_body, j);
    return;
  }
  for (int b = 0; b < j->n; b++) attention_image(j, b, workspace, threads);
}

void gk_f32_attention_forward(int n, int npos, int cq, int cv, const float *q, const float *k,
                              const float *v, float *attn, float *o, void *workspace, int threads) {
  attention_job j = {.n = n, .cq = cq, .cv = cv, .backward = 0, .P = (size_t)npos, .q = q, .k = k, .v = v,
                     .attn = attn, .o = o};
  attention_run(&j, workspace, threads);
}

void gk_f32_attention_backward(int n, int npos, int cq, int cv, const float *q, const float *k,
                               const float *v, const float *attn, const float *dout, float *ds,
                               float *dq, float *dk, float *dv, void *workspace, int threads) {
  attention_job j = {.n = n, .cq = cq, .cv = cv, .backward = 1, .P = (size_t)npos, .q = q, .k = k, .v = v,
                     .dout = dout, .attn = (float *)attn, .ds = ds, .dq = dq, .dk = dk, .dv = dv};
  attention_run(&j, workspace, threads);
}

// Dot product in 8 interleaved partial sums (a fixed order; the compiler vectorizes the lanes).
static float dot8(const float *a, const float *b, size_t n) {
  float acc[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
  float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

static void normalize(int count, float *x, float eps) {
  float norm = sqrtf(dot8(x, x, (size_t)count));
  float d = norm > eps ? norm : eps;
  for (int i = 0; i < count; i++) x[i] /= d;
}

// y (len) = M x where M's row i is contiguous at m + i * ld (len rows of width dots).
static void rows_dot(int len, int width, const float *m, size_t ld, const float *x, float *y) {
  for (int i = 0; i < len; i++) y[i] = dot8(m + (size_t)i * ld, x, (size_t)width);
}

// y (width) = M^T x, M's row i contiguous at m + i * ld: axpy per row (vectorizes, no reduction).
static void rows_axpy(int len, int width, const float *m, size_t ld, const float *x, float *y) {
  for (int j = 0; j < width; j++) y[j] = 0;
  for (int i = 0; i < len; i++) {
    const float *mi = m + (size_t)i * ld;
    float xi = x[i];
    for (int j = 0; j < width; j++) y[j] += mi[j] * xi;
  }
}

float gk_f32_spectral_norm(int rows, int cols, const float *w, size_t rs, size_t cs, float *u, float *v,
                           int power_iteration, float eps, float *wv, float *w_sn) {
  // Two dense layouts: W's columns contiguous (rs == 1: KKIO weights, one memory row per column
  // r) or W's rows contiguous (cs == 1: PyTorch's (out, -1) view). Others take the reference.
  if (rs != 1 && cs != 1)
    return gk_f32_spectral_norm_ref(rows, cols, w, rs, cs, u, v, power_iteration, eps, wv, w_sn);
  if (power_iteration) {
    if (rs == 1) rows_dot(cols, rows, w, cs, u, v); else rows_axpy(rows, cols, w, rs, u, v);
    normalize(cols, v, eps);
  }
  if (rs == 1) rows_axpy(cols, rows, w, cs, v, wv); else rows_dot(rows, cols, w, rs, v, wv);
  if (power_iteration) {
    memcpy(u, wv, (size_t)rows * sizeof(float));
    normalize(rows, u, eps);
  }
  float sigma = dot8(u, wv, (size_t)rows);
  if (w_sn) {
    size_t outer = rs == 1 ? (size_t)cols : (size_t)rows, inner = rs == 1 ? (size_t)rows : (size_t)cols;
    size_t ld = rs == 1 ? cs : rs;
    for (size_t a = 0; a < outer; a++)
      for (size_t b = 0; b < inner; b++) w_sn[a * ld + b] = w[a * ld + b] / sigma;
  }
  return sigma;
}

void gk_f32_spectral_norm_backward(int rows, int cols, const float *w, size_t rs, size_t cs, const float *u,
                                   const float *v, float sigma, const float *dw_sn, float *dw, int accumulate) {
  if (rs != 1 && cs != 1) {
    gk_f32_spectral_norm_backward_ref(rows, cols, w, rs, cs, u, v, sigma, dw_sn, dw, accumulate);
    return;
  }
  // outer index a over memory rows, inner b contiguous: (o, r) = rs == 1 ? (b, a) : (a, b).
  size_t outer = rs == 1 ? (size_t)cols : (size_t)rows, inner = rs == 1 ? (size_t)rows : (size_t)cols;
  size_t ld = rs == 1 ? cs : rs;
  double dot = 0;
  for (size_t a = 0; a < outer; a++) dot += dot8(dw_sn + a * ld, w + a * ld, inner);
  float c = (float)(dot / ((double)sigma * sigma));
  const float *inner_vec = rs == 1 ? u : v, *outer_vec = rs == 1 ? v : u;
  for (size_t a = 0; a < outer; a++) {
    float ca = c * outer_vec[a];
    const float *g = dw_sn + a * ld;
    float *d = dw + a * ld;
    if (accumulate)
      for (size_t b = 0; b < inner; b++) d[b] += g[b] / sigma - ca * inner_vec[b];
    else
      for (size_t b = 0; b < inner; b++) d[b] = g[b] / sigma - ca * inner_vec[b];
  }
}

// MARK: - Double backward (WGAN-GP's penalty gradient through the attention core)

// r[i] = sum_j a[i, j] b[i, j] over rows of n, in 8 interleaved float sums (dot8's order).
static void row_dots(size_t rows, size_t n, const float *a, const float *b, float *r) {
  for (size_t i = 0; i < rows; i++) r[i] = dot8(a + i * n, b + i * n, n);
}

static size_t double_image_bytes(size_t P, int cq, int cv, int threads) {
  size_t w = 0;
  w = max_size(w, gk_f32_gemm_workspace_bytes(P, P, (size_t)(cq > cv ? cq : cv), threads));
  w = max_size(w, gk_f32_gemm_workspace_bytes(P, (size_t)(cq > cv ? cq : cv), P, threads));
  // The three P x P matrices and two row vectors of one image.
  return ((w + 63) & ~(size_t)63) + ((3 * P * P + 2 * P) * sizeof(float) + 63) / 64 * 64;
}

size_t gk_f32_attention_double_backward_workspace_bytes(int n, int npos, int cq, int cv, int threads) {
  (void)n;
  size_t P = (size_t)npos;
  return max_size(double_image_bytes(P, cq, cv, threads), (size_t)threads * double_image_bytes(P, cq, cv, 1));
}

typedef struct {
  int n, cq, cv;
  size_t P;
  const float *q, *k, *v, *attn, *dout, *ds, *gdq, *gdk, *gdv;
  float *gq, *gk, *gv, *gdout;
  char *workspace;
  size_t slice;
} double_job;

static void gemm_nn(size_t m, size_t n, size_t k, const float *a, int ta, size_t lda, const float *b, int tb,
                    size_t ldb, float *c, int accumulate, void *ws, int threads) {
  gk_operand A = ta ? gk_operand_matrix_t(a, lda) : gk_operand_matrix(a, lda);
  gk_operand B = tb ? gk_operand_matrix_t(b, ldb) : gk_operand_matrix(b, ldb);
  gk_output C = gk_output_dense(c, n);
  gk_epilogue ep = {.accumulate = accumulate};
  gk_f32_gemm(m, n, k, &A, &B, &C, accumulate ? &ep : NULL, ws, threads);
}

// One image (see gk_f32_attention_double_backward_ref for the definition; the same steps as GEMMs).
static void double_image(const double_job *j, int b, char *ws, size_t ws_gemm, int threads) {
  size_t P = j->P, cq = (size_t)j->cq, cv = (size_t)j->cv;
  const float *q = j->q + b * P * cq, *k = j->k + b * P * cq, *v = j->v + b * P * cv, *A = j->attn + b * P * P;
  const float *dO = j->dout + b * P * cv, *dS = j->ds + b * P * P;
  const float *xq = j->gdq + b * P * cq, *xk = j->gdk + b * P * cq, *xv = j->gdv + b * P * cv;
  float *oq = j->gq + b * P * cq, *ok = j->gk + b * P * cq, *ov = j->gv + b * P * cv, *oo = j->gdout + b * P * cv;
  void *gw = ws;
  float *T = (float *)(ws + ws_gemm), *D = T + P * P, *E = D + P * P, *r = E + P * P, *t = r + P;
  gemm_nn(P, P, cq, xq, 0, cq, k, 1, cq, T, 0, gw, threads);  // T = gdq K^T + Q gdk^T: the adjoint of dS
  gemm_nn(P, P, cq, q, 0, cq, xk, 1, cq, T, 1, gw, threads);
  gemm_nn(P, cq, P, dS, 1, P, xq, 0, cq, ok, 0, gw, threads);  // gk = dS^T gdq
  gemm_nn(P, cq, P, dS, 0, P, xk, 0, cq, oq, 0, gw, threads);  // gq = dS gdk
  gemm_nn(P, P, cv, dO, 0, cv, v, 1, cv, D, 0, gw, threads);   // D = dA = dO V^T
  row_dots(P, P, D, A, r);
  row_dots(P, P, T, A, t);
  for (size_t i = 0; i < P; i++) {
    const float *a = A + i * P;
    float *ti = T + i * P, *di = D + i * P, *ei = E + i * P, ri = r[i], tr = t[i];
    for (size_t c = 0; c < P; c++) {
      ei[c] = a[c] * (ti[c] - tr);                  // the adjoint of dA
      ti[c] = ti[c] * (di[c] - ri) - di[c] * tr;    // the adjoint of A through dS
    }
  }
  gemm_nn(P, P, cv, dO, 0, cv, xv, 1, cv, T, 1, gw, threads);   // ... and through dV = A^T dO
  gemm_nn(P, cv, P, A, 0, P, xv, 0, cv, oo, 0, gw, threads);    // gdo = A gdv + E V
  gemm_nn(P, cv, P, E, 0, P, v, 0, cv, oo, 1, gw, threads);
  gemm_nn(P, cv, P, E, 1, P, dO, 0, cv, ov, 0, gw, threads);    // gv = E^T dO
  gk_f32_softmax_backward_rows(P, P, A, T, T, threads);         // S's adjoint through the softmax
  gemm_nn(P, cq, P, T, 0, P, k, 0, cq, oq, 1, gw, threads);     // gq += S_adj K
  gemm_nn(P, cq, P, T, 1, P, q, 0, cq, ok, 1, gw, threads);     // gk += S_adj^T Q
}

static void double_body(void *ctx, int tid, int nth) {
  const double_job *j = ctx;
  size_t gemm = double_image_bytes(j->P, j->cq, j->cv, 1) - ((3 * j->P * j->P + 2 * j->P) * sizeof(float) + 63) / 64 * 64;
  for (int b = tid; b < j->n; b += nth) double_image(j, b, j->workspace + (size_t)tid * j->slice, gemm, 1);
}

void gk_f32_attention_double_backward(int n, int npos, int cq, int cv, const float *q, const float *k,
                                      const float *v, const float *attn, const float *dout, const float *ds,
                                      const float *gdq, const float *gdk, const float *gdv, float *gq, float *gk,
                                      float *gv, float *gdout, void *workspace, int threads) {
  double_job j = {.n = n, .cq = cq, .cv = cv, .P = (size_t)npos, .q = q, .k = k, .v = v, .attn = attn, .dout = dout,
                  .ds = ds, .gdq = gdq, .gdk = gdk, .gdv = gdv, .gq = gq, .gk = gk, .gv = gv, .gdout = gdout,
                  .workspace = workspace};
  size_t P = (size_t)npos, mats = ((3 * P * P + 2 * P) * sizeof(float) + 63) / 64 * 64;
  if (threads > 1 && n >= threads) {
    j.slice = double_image_bytes(P, cq, cv, 1);
    gk_run_parallel(threads, double_body, &j);
    return;
  }
  size_t gemm = double_image_bytes(P, cq, cv, threads) - mats;
  for (int b = 0; b < n; b++) double_image(&j, b, workspace, gemm, threads);
}
