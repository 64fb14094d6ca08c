// GEMM operand descriptors and packing: strided matrices, convolution windows (im2col read in
// place), transposed windows, and weights packed once for inference.
#include "gemm_internal.h"

// MARK: - Descriptors

gk_rowmap gk_rowmap_dense(size_t ld) {
  gk_rowmap r;
  memset(&r, 0, sizeof r);
  r.group = SIZE_MAX;
  r.inner = ld;
  r.ntab = 1;
  return r;
}

gk_operand gk_operand_matrix(const float *data, size_t ld) {
  gk_operand op;
  memset(&op, 0, sizeof op);
  op.kind = GK_OPERAND_MATRIX;
  op.data = data;
  op.rows = gk_rowmap_dense(ld);
  op.col_stride = 1;
  return op;
}

gk_operand gk_operand_matrix_t(const float *data, size_t ld) {
  gk_operand op = gk_operand_matrix(data, 1);
  op.col_stride = ld;
  return op;
}

gk_output gk_output_dense(float *data, size_t ld) {
  gk_output o;
  o.data = data;
  o.rows = gk_rowmap_dense(ld);
  return o;
}

static float window_at(const gk_window *w, const float *x, size_t m, size_t k) {
  size_t per_img = (size_t)w->oh * w->ow;
  size_t img = m / per_img, rem = m % per_img;
  int i = (int)(rem / w->ow), j = (int)(rem % w->ow);
  int t = (int)(k / w->c), ci = (int)(k % w->c);
  int y = w->stride * i + w->dy[t], xx = w->stride * j + w->dx[t];
  if (y < 0 || y >= w->h || xx < 0 || xx >= w->w) return 0.0f;
  return x[(((size_t)img * w->h + y) * w->w + xx) * w->c + ci];
}

static float packed_at(const gk_operand *op, size_t k, size_t n) {
  size_t nr = (size_t)op->packed_nr, npad = round_up(op->packed_n, nr);
  size_t k0 = k / GK_KC * GK_KC, kc = op->packed_k - k0 < GK_KC ? op->packed_k - k0 : GK_KC;
  return op->data[k0 * npad + (n / nr) * kc * nr + (k - k0) * nr + n % nr];
}

float gk_operand_at(const gk_operand *op, size_t r, size_t c) {
  switch (op->kind) {
    case GK_OPERAND_PACKED: return packed_at(op, r, c);
    case GK_OPERAND_WINDOW: return window_at(&op->win, op->data, r, c);
    case GK_OPERAND_WINDOW_T: return window_at(&op->win, op->data, c, r);
    default: return op->data[gk_rowmap_off(&op->rows, r) + c * op->col_stride];
  }
}

// MARK: - Packing

// A panel: rows r0..r0+mr-1 (zero past m), columns k0..k0+kc-1, stored [kc][mr].
// d[q][r] = src[r][q] for q < run: MR rows into the micro-kernel's [k][MR] order. MR is a
// constant in each call site, so the inner loop unrolls into contiguous stores.
static inline __attribute__((always_inline)) void interleave_rows(const int MR, const float *const *src,
                                                                  size_t run, float *d) {
  for (size_t q = 0; q < run; q++)
    for (int r = 0; r < MR; r++) d[q * (size_t)MR + r] = src[r][q];
}

void gk_pack_a(const gk_operand *a, size_t m, size_t r0, int mr, size_t k0, size_t kc,
                   float *dst) {
  if (a->kind == GK_OPERAND_MATRIX) {
    for (int r = 0; r < mr; r++) {
      if (r0 + r >= m) {
        for (size_t kk = 0; kk < kc; kk++) dst[kk * mr + r] = 0.0f;
        continue;
      }
      const float *src = a->data + gk_rowmap_off(&a->rows, r0 + r) + k0 * a->col_stride;
      size_t cs = a->col_stride;
      if (cs == 1) {
        for (size_t kk = 0; kk < kc; kk++) dst[kk * mr + r] = src[kk];
      } else {
        for (size_t kk = 0; kk < kc; kk++) dst[kk * mr + r] = src[kk * cs];
      }
    }
    return;
  }
  const gk_window *w = &a->win;
  const float *x = a->data;
  size_t per_img = (size_t)w->oh * w->ow;
  if (a->kind == GK_OPERAND_WINDOW) {
    // Rows are output pixels; each tap contributes a contiguous run of channels, and the runs'
    // boundaries in k are the same for every row. Per run: one source pointer per row (a zero
    // run at a border or past m), then the MR rows interleaved with contiguous stores.
    static const float zeros[GK_KC_SET] = {0};
    int img[GK_MR_MAX], pi[GK_MR_MAX], pj[GK_MR_MAX];
    for (int r = 0; r < mr; r++) {
      size_t m_idx = r0 + r;
      img[r] = -1; pi[r] = 0; pj[r] = 0;  // rows past m read zeros; their offsets must still be defined
      if (m_idx >= m) continue;
      size_t rem = m_idx % per_img;
      img[r] = (int)(m_idx / per_img); pi[r] = (int)(rem / w->ow); pj[r] = (int)(rem % w->ow);
    }
    size_t kk = 0;
    while (kk < kc) {
      size_t k = k0 + kk;
      int t = (int)(k / w->c), ci = (int)(k % w->c);
      size_t run = (size_t)(w->c - ci);
      if (run > kc - kk) run = kc - kk;
      const float *src[GK_MR_MAX];
      for (int r = 0; r < mr; r++) {
        int y = w->stride * pi[r] + w->dy[t], xx = w->stride * pj[r] + w->dx[t];
        src[r] = (img[r] < 0 || y < 0 || y >= w->h || xx < 0 || xx >= w->w)
                     ? zeros
                     : x + (((size_t)img[r] * w->h + y) * w->w + xx) * w->c + ci;
      }
      float *d = dst + kk * mr;
      switch (mr) {
        case 4: interleave_rows(4, src, run, d); break;
        case 6: interleave_rows(6, src, run, d); break;
        case 8: interleave_rows(8, src, run, d); break;
        default: interleave_rows(mr, src, run, d); break;
      }
      kk += run;
    }
    return;
  }
  // WINDOW_T (rows (tap, channel), columns pixels): the one packer of that layout, for one panel.
  gk_pack_a_panels(a, m, r0, 1, mr, k0, kc, dst);
}

// npanels consecutive A panels (rows r0 .. r0 + npanels * mr - 1), panel q at dst + q * kc * mr:
// the same floats as gk_pack_a per panel. For WINDOW_T (the weight gradients' im2col^T; gk_pack_a
// comes here for it) per pixel and tap one contiguous run of channels is read once and dealt to
// the panels, instead of one border check and one short copy per panel, pixel and tap.
void gk_pack_a_panels(const gk_operand *a, size_t m, size_t r0, size_t npanels, int mr, size_t k0, size_t kc,
                      float *dst) {
  if (a->kind != GK_OPERAND_WINDOW_T) {
    for (size_t q = 0; q < npanels; q++) gk_pack_a(a, m, r0 + q * (size_t)mr, mr, k0, kc, dst + q * kc * (size_t)mr);
    return;
  }
  const gk_window *w = &a->win;
  const float *x = a->data;
  const size_t c = (size_t)w->c, per_img = (size_t)w->oh * w->ow, pstride = kc * (size_t)mr;
  size_t rows_total = (size_t)w->ntaps * c, limit = rows_total < m ? rows_total : m;
  size_t r_end = r0 + npanels * (size_t)mr, valid_end = r_end < limit ? r_end : limit;
  if (valid_end < r0) valid_end = r0;
  // The rows by tap, worked out once: segment s holds seg_len rows of tap seg_t, from row seg_r of
  // panel seg_q, channels seg_ch on of the tap's pixel.
  int seg_t[16], seg_len[16], seg_q[16], seg_r[16], seg_ch[16], nseg = 0;
  for (size_t row = r0; row < valid_end && nseg < 16;) {
    size_t t = row / c, hi = (t + 1) * c < valid_end ? (t + 1) * c : valid_end, off = row - r0;
    seg_t[nseg] = (int)t; seg_len[nseg] = (int)(hi - row); seg_q[nseg] = (int)(off / (size_t)mr);
    seg_r[nseg] = (int)(off % (size_t)mr); seg_ch[nseg] = (int)(row - t * c);
    nseg++;
    row = hi;
  }
  // Rows past the window's (or m's) end read zeros: from panel zero_q, row zero_r on.
  const size_t zero_q = (valid_end - r0) / (size_t)mr;
  const int zero_r = (int)((valid_end - r0) % (size_t)mr), zeros = (int)(r_end - valid_end);
  size_t img = k0 / per_img, rem = k0 % per_img;
  int i = (int)(rem / w->ow), j = (int)(rem % w->ow);
  const size_t img_stride = (size_t)w->h * w->w * c;
  for (size_t kk = 0; kk < kc; kk++) {
    const float *base = x + img * img_stride;
    for (int sg = 0; sg < nseg; sg++) {
      int t = seg_t[sg], y = w->stride * i + w->dy[t], xx = w->stride * j + w->dx[t], r = seg_r[sg];
      float *d = dst + (size_t)seg_q[sg] * pstride + kk * (size_t)mr;
      if (y < 0 || y >= w->h || xx < 0 || xx >= w->w) {
        for (int e = 0; e < seg_len[sg]; e++) {
          d[r] = 0.0f;
          if (++r == mr) { r = 0; d += pstride; }
        }
      } else {
        const float *src = base + ((size_t)y * w->w + xx) * c + seg_ch[sg];
        for (int e = 0; e < seg_len[sg]; e++) {
          d[r] = src[e];
          if (++r == mr) { r = 0; d += pstride; }
        }
      }
    }
    float *z = dst + zero_q * pstride + kk * (size_t)mr;
    for (int e = 0, r = zero_r; e < zeros; e++) {
      z[r] = 0.0f;
      if (++r == mr) { r = 0; z += pstride; }
    }
    if (++j == w->ow) {
      j = 0;
      if (++i == w->oh) { i = 0; img++; }
    }
  }
}

// B panel: rows k0..k0+kc-1, columns n0..n0+nr-1 (zero past n), stored [kc][nr].
void gk_pack_b(const gk_operand *b, size_t n, size_t n0, int nr, size_t k0, size_t kc,
                   float *dst) {
  size_t nvalid = n - n0 < (size_t)nr ? n - n0 : (size_t)nr;
  if (b->kind == GK_OPERAND_MATRIX) {
    size_t cs = b->col_stride;
    for (size_t kk = 0; kk < kc; kk++) {
      const float *src = b->data + gk_rowmap_off(&b->rows, k0 + kk) + n0 * cs;
      float *d = dst + kk * nr;
      if (cs == 1) {
        for (size_t c = 0; c < nvalid; c++) d[c] = src[c];
      } else {
        for (size_t c = 0; c < nvalid; c++) d[c] = src[c * cs];
      }
      for (size_t c = nvalid; c < (size_t)nr; c++) d[c] = 0.0f;
    }
    return;
  }
  for (size_t kk = 0; kk < kc; kk++) {
    float *d = dst + kk * nr;
    for (size_t c = 0; c < (size_t)nr; c++)
      d[c] = c < nvalid ? gk_operand_at(b, k0 + kk, n0 + c) : 0.0f;
  }
}

size_t gk_f32_gemm_packed_b_floats(size_t k, size_t n) {
  return k * round_up(n, (size_t)gk_config()->gemm->nr);
}

gk_operand gk_f32_gemm_pack_b(const gk_operand *b, size_t k, size_t n, float *packed) {
  return gk_f32_gemm_pack_b_scaled(b, k, n, NULL, packed);
}

gk_operand gk_f32_gemm_pack_b_scaled(const gk_operand *b, size_t k, size_t n,
                                     const float *col_scale, float *packed) {
  int nr = gk_config()->gemm->nr;
  size_t npad = round_up(n, (size_t)nr);
  for (size_t pc = 0; pc < k; pc += GK_KC) {
    size_t kc = k - pc < GK_KC ? k - pc : GK_KC;
    for (size_t p = 0; p * nr < n; p++) {
      float *panel = packed + pc * npad + p * kc * nr;
      gk_pack_b(b, n, p * nr, nr, pc, kc, panel);
      if (col_scale) {
        size_t nvalid = n - p * nr < (size_t)nr ? n - p * nr : (size_t)nr;
        for (size_t kk = 0; kk < kc; kk++)
          for (size_t c = 0; c < nvalid; c++) panel[kk * nr + c] *= col_scale[p * nr + c];
      }
    }
  }
  gk_operand op;
  memset(&op, 0, sizeof op);
  op.kind = GK_OPERAND_PACKED;
  op.data = packed;
  op.packed_k = k;
  op.packed_n = n;
  op.packed_nr = nr;
  return op;
}

// B panels p_begin..p_end-1 of a matrix with contiguous columns, row by row: each source row is
// read once, contiguously, and its slices go to the panels (one rowmap lookup per row instead of
// one per row and panel).
void gk_pack_b_panels(const gk_operand *b, size_t n, size_t n0, size_t p_begin, size_t p_end,
                          int nr, size_t k0, size_t kc, float *bpack) {
  if (p_begin >= p_end) return;
  if (b->kind != GK_OPERAND_MATRIX || b->col_stride != 1) {
    for (size_t p = p_begin; p < p_end; p++) gk_pack_b(b, n, n0 + p * nr, nr, k0, kc, bpack + p * kc * nr);
    return;
  }
  size_t c_begin = n0 + p_begin * nr, c_end = n0 + p_end * (size_t)nr;
  size_t c_valid = c_end < n ? c_end : n;
  for (size_t kk = 0; kk < kc; kk++) {
    const float *src = b->data + gk_rowmap_off(&b->rows, k0 + kk);
    for (size_t p = p_begin; p < p_end; p++) {
      float *d = bpack + p * kc * nr + kk * nr;
      size_t c0 = n0 + p * nr;
      if (c0 + nr <= c_valid) {
        memcpy(d, src + c0, (size_t)nr * sizeof(float));
      } else {
        size_t v = c_valid > c0 ? c_valid - c0 : 0;
        for (size_t c = 0; c < v; c++) d[c] = src[c0 + c];
        for (size_t c = v; c < (size_t)nr; c++) d[c] = 0.0f;
      }
    }
  }
  (void)c_begin;
}

