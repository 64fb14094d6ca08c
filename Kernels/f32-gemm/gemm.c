// f32 GEMM driver: Goto/BLIS blocking (NC x KC panels of B shared, MC x KC blocks of A per task),
// packing from strided matrices or convolution windows, a register-blocked micro-kernel from the
// variant table, and the epilogue (bias, activation, BatchNorm column statistics) on each finished
// tile while it is still in L1.
#include "gemm_internal.h"

// MARK: - Epilogue

static void epilogue_rows(float *const *rows, uint8_t *const *u8rows, int mvalid, int nvalid,
                          size_t col0, const gk_epilogue *ep, double *psum, double *psumsq) {
  const float *bias = ep ? ep->bias : NULL;
  int act = ep ? ep->act : GK_ACT_NONE;
  float slope = ep ? ep->slope : 0.0f;
  for (int r = 0; r < mvalid; r++) {
    float *row = rows[r];
    if (bias) {
      for (int c = 0; c < nvalid; c++) row[c] += bias[col0 + c];
    }
    switch (act) {
      case GK_ACT_RELU:
        for (int c = 0; c < nvalid; c++) row[c] = row[c] > 0 ? row[c] : 0.0f;
        break;
      case GK_ACT_LRELU:
        for (int c = 0; c < nvalid; c++) row[c] = row[c] > 0 ? row[c] : row[c] * slope;
        break;
      case GK_ACT_TANH:
        for (int c = 0; c < nvalid; c++) row[c] = gk_tanhf_inline(row[c]);
        break;
      default: break;
    }
    if (u8rows) {
      uint8_t *px = u8rows[r];
      for (int c = 0; c < nvalid; c++) px[c] = gk_to_u8(row[c]);
    }
    if (psum) {
      for (int c = 0; c < nvalid; c++) {
        double v = row[c];
        psum[c] += v;
        psumsq[c] += v * v;
      }
    }
  }
}

// MARK: - Driver

size_t gk_gemm_kchunks(size_t m, size_t n, size_t k, const gk_epilogue *ep, int b_packed) {
  int plain = !ep || (!ep->bias && ep->act == GK_ACT_NONE && !ep->col_sum && !ep->u8);
  if (!plain || b_packed || n > GK_NC_MAX || k < 2 * (size_t)GK_KSPLIT_CHUNK || k < 4 * m || k < 4 * n) return 0;
  return div_up(k, GK_KSPLIT_CHUNK);
}

size_t gk_f32_gemm_workspace_bytes(size_t m, size_t n, size_t k, int threads) {
  if (threads < 1) threads = 1;
  size_t wide = m > n ? m : n;  // the swapped mode packs B^T panels along m
  size_t ncb = round_up(wide < GK_NC_MAX ? wide : GK_NC_MAX, GK_NC_ROUND);
  size_t bpack = ncb * GK_KC * sizeof(float);
  // Per-thread A blocks, or (small M) all rows packed once and shared: up to 2 * threads blocks.
  size_t apack = 2 * (size_t)threads * GK_MC_MAX * GK_KC * sizeof(float);
  size_t stats = div_up(m, GK_STAT_ROWS) * n * 2 * sizeof(double);
  // A K split (when the shape may take one): a B block per thread and the chunks' partial products.
  size_t kchunks = gk_gemm_kchunks(m, n, k, NULL, 0);
  size_t ksplit = kchunks ? (size_t)threads * ncb * GK_KC * sizeof(float) + kchunks * m * n * sizeof(float) + 64 : 0;
  return round_up(bpack, 64) + round_up(apack, 64) + round_up(stats, 64) + round_up(ksplit, 64) + 64;
}

// K split: thread t takes chunks t, t + nth, ...; each chunk's partial product goes to its own
// m x n block, every k block packed by the thread that uses it (no barrier until the end); then
// C = (accumulate ? C : 0) + the chunks in order, rows split over the threads.
static void gemm_thread_ksplit(const gemm_call *g, int tid, int nth) {
  const gk_gemm_variant *v = g->v;
  const size_t m = g->m, n = g->n, k = g->k;
  const int mr = v->mr, nr = v->nr;
  const size_t npan = div_up(n, (size_t)nr), ncb = round_up(n, GK_NC_ROUND);
  float *apack = g->apack_all + (size_t)tid * GK_MC_MAX * GK_KC;
  float *bpack = (float *)((char *)g->kpartial + round_up(g->kchunks * m * n * sizeof(float), 64)) +
                 (size_t)tid * ncb * GK_KC;
  for (size_t chunk = (size_t)tid; chunk < g->kchunks; chunk += (size_t)nth) {
    float *part = g->kpartial + chunk * m * n;
    size_t k0 = chunk * GK_KSPLIT_CHUNK, k1 = k0 + GK_KSPLIT_CHUNK < k ? k0 + GK_KSPLIT_CHUNK : k;
    for (size_t pc = k0; pc < k1; pc += GK_KC) {
      size_t kc = k1 - pc < GK_KC ? k1 - pc : GK_KC;
      int add = pc > k0;
      for (size_t p = 0; p < npan; p++) gk_pack_b(g->b, n, p * nr, nr, pc, kc, bpack + p * kc * nr);
      for (size_t m0 = 0; m0 < m; m0 += GK_MC_MAX) {
        size_t mcur = m - m0 < GK_MC_MAX ? m - m0 : GK_MC_MAX, qpan = div_up(mcur, (size_t)mr);
        gk_pack_a_panels(g->a, m, m0, qpan, mr, pc, kc, apack);
        for (size_t p = 0; p < npan; p++) {
          size_t n0 = p * nr;
          int nvalid = (int)(n - n0 < (size_t)nr ? n - n0 : (size_t)nr);
          for (size_t q = 0; q < qpan; q++) {
            size_t r0 = m0 + q * mr;
            int mvalid = (int)(m - r0 < (size_t)mr ? m - r0 : (size_t)mr);
            const float *ap = apack + q * kc * mr, *bp = bpack + p * kc * nr;
            float *rows[GK_MR_MAX];
            if (mvalid == mr && nvalid == nr) {
              for (int r = 0; r < mr; r++) rows[r] = part + (r0 + r) * n + n0;
              v->ukernel(kc, ap, bp, rows, add);
            } else {
              float tile[GK_MR_MAX * GK_NR_MAX] __attribute__((aligned(64)));
              for (int r = 0; r < mr; r++) rows[r] = tile + r * nr;
              if (add)
                for (int r = 0; r < mvalid; r++) memcpy(rows[r], part + (r0 + r) * n + n0, (size_t)nvalid * sizeof(float));
              v->ukernel(kc, ap, bp, rows, add);
              for (int r = 0; r < mvalid; r++) memcpy(part + (r0 + r) * n + n0, rows[r], (size_t)nvalid * sizeof(float));
            }
          }
        }
      }
    }
  }
  gk_barrier(nth);
  const int accumulate = g->ep && g->ep->accumulate;
  for (size_t r = (size_t)tid; r < m; r += (size_t)nth) {
    float *crow = g->c->data + gk_rowmap_off(&g->c->rows, r);
    for (size_t c = 0; c < n; c++) {
      float s = accumulate ? crow[c] : 0.0f;
      for (size_t ch = 0; ch < g->kchunks; ch++) s += g->kpartial[ch * m * n + r * n + c];
      crow[c] = s;
    }
  }
}

// Everything one thread does for a GEMM call. Work is partitioned by hand (thread t takes items
// t, t + nth, ...) with explicit barriers: Debian's libomp formats a debug string (malloc + free)
// in every worksharing-loop init, and a one-thread region allocates, so neither is used.
//
// Swapped mode, for outputs with few columns (a layer with 1 or 3 output channels): the
// micro-kernel computes C^T = B^T A^T, so the narrow dimension fills MR (6) rows instead of NR (16)
// columns. A^T panels come from the B packer and B^T panels from the A packer (each writes the
// layout the other's operand needs), and tiles are written back transposed.
// Column statistics: partial sums per GK_STAT_ROWS granule ([granule][sum | sumsq][n]), zeroed
// before and reduced after, granules always in order (independent of the thread count).
static void stats_zero(const gemm_call *g, int tid, int nth) {
  for (size_t i = (size_t)tid; i < g->ngran * g->n * 2; i += (size_t)nth) g->partial[i] = 0.0;
}

static void stats_reduce(const gemm_call *g, int tid, int nth) {
  size_t n = g->n;
  for (size_t col = (size_t)tid; col < n; col += (size_t)nth) {
    double s = 0.0, q = 0.0;
    for (size_t gr = 0; gr < g->ngran; gr++) {
      s += g->partial[gr * n * 2 + col];
      q += g->partial[gr * n * 2 + n + col];
    }
    g->ep->col_sum[col] += s;
    g->ep->col_sumsq[col] += q;
  }
}

// Small M with prepacked B (batch-1 inference): all of A, for every K block, is packed once by
// all threads ([k block][row panel][kc][mr] in the shared region), then one barrier; each task
// runs its tiles through every K block with no further synchronization.
static int small_m_fits(const gemm_call *g, size_t capacity_floats) {
  const gk_gemm_variant *v = g->v;
  size_t rows_pad = round_up(g->m, (size_t)v->mr);
  return g->b->kind == GK_OPERAND_PACKED && !g->swapped && g->k > 0 &&
         g->n <= GK_NC_MAX / (size_t)v->nr * (size_t)v->nr &&
         rows_pad * g->k <= capacity_floats;
}

static void gemm_thread_small_m(const gemm_call *g, int tid, int nth) {
  const gk_gemm_variant *v = g->v;
  const size_t m = g->m, n = g->n, k = g->k, mc = g->mc, mblocks = g->mblocks;
  const int mr = v->mr, nr = v->nr;
  const gk_epilogue *ep = g->ep;
  const int accumulate = ep && ep->accumulate;
  const int want_stats = ep && ep->col_sum && ep->col_sumsq;
  const size_t rows_pad = round_up(m, (size_t)mr), qtotal = rows_pad / (size_t)mr;
  const size_t kblocks = div_up(k, GK_KC), npan = div_up(n, (size_t)nr), npad = npan * (size_t)nr;
  double *partial = g->partial;
  // Pack A: items (k block, row panel).
  for (size_t item = (size_t)tid; item < kblocks * qtotal; item += (size_t)nth) {
    size_t kb = item / qtotal, q = item % qtotal, pc = kb * GK_KC;
    size_t kc = k - pc < GK_KC ? k - pc : GK_KC;
    gk_pack_a(g->a, m, q * mr, mr, pc, kc, g->apack_all + pc * rows_pad + q * kc * mr);
  }
  if (want_stats)
    stats_zero(g, tid, nth);
  gk_barrier(nth);
  size_t nchunks = mblocks < 2 * (size_t)nth ? div_up(2 * (size_t)nth, mblocks) : 1;
  if (nchunks > npan) nchunks = npan;
  size_t pan_per_chunk = div_up(npan, nchunks);
  for (size_t task = (size_t)tid; task < mblocks * nchunks; task += (size_t)nth) {
    size_t ib = task / nchunks, ic = task % nchunks;
    size_t m0 = ib * mc, mcur = m - m0 < mc ? m - m0 : mc;
    size_t p0 = ic * pan_per_chunk, p1 = p0 + pan_per_chunk < npan ? p0 + pan_per_chunk : npan;
    size_t qpan = div_up(mcur, (size_t)mr);
    size_t row_off[GK_MC_MAX];
    for (size_t r = 0; r < mcur; r++) row_off[r] = gk_rowmap_off(&g->c->rows, m0 + r);
    for (size_t p = p0; p < p1; p++) {
      size_t n0 = p * nr;
      int nvalid = (int)(n - n0 < (size_t)nr ? n - n0 : (size_t)nr);
      for (size_t q = 0; q < qpan; q++) {
        size_t r0 = m0 + q * mr;
        int mvalid = (int)(m - r0 < (size_t)mr ? m - r0 : (size_t)mr);
        float *rows[GK_MR_MAX];
        uint8_t *u8rows[GK_MR_MAX];
        for (int r = 0; r < mvalid; r++) {
          size_t off = row_off[r0 - m0 + r] + n0;
          rows[r] = g->c->data + off;
          if (ep && ep->u8) u8rows[r] = ep->u8 + off;
        }
        float tile[GK_MR_MAX * GK_NR_MAX] __attribute__((aligned(64)));
        float *trows[GK_MR_MAX];
        int full = mvalid == mr && nvalid == nr;
        for (int r = 0; r < mr; r++) trows[r] = full ? rows[r] : tile + r * nr;
        if (!full && accumulate)
          for (int r = 0; r < mvalid; r++) memcpy(trows[r], rows[r], (size_t)nvalid * sizeof(float));
        for (size_t pc = 0; pc < k; pc += GK_KC) {
          size_t kc = k - pc < GK_KC ? k - pc : GK_KC;
          const float *ap = g->apack_all + pc * rows_pad + (r0 / (size_t)mr) * kc * mr;
          const float *bp = g->b->data + pc * npad + p * kc * nr;
          v->ukernel(kc, ap, bp, trows, pc > 0 || accumulate);
        }
        if (!full)
          for (int r = 0; r < mvalid; r++) memcpy(rows[r], trows[r], (size_t)nvalid * sizeof(float));
        double *ps = NULL, *pq = NULL;
        if (want_stats) {
          size_t gr = r0 / GK_STAT_ROWS;
          ps = partial + gr * n * 2 + n0;
          pq = partial + gr * n * 2 + n + n0;
        }
        epilogue_rows(rows, ep && ep->u8 ? u8rows : NULL, mvalid, nvalid, n0, ep, ps, pq);
      }
    }
  }
  if (want_stats) {
    gk_barrier(nth);
    stats_reduce(g, tid, nth);
  }
}

void gk_gemm_thread(const gemm_call *g, int tid, int nth) {
  if (g->kchunks) {
    gemm_thread_ksplit(g, tid, nth);
    return;
  }
  if (g->small_m) {
    gemm_thread_small_m(g, tid, nth);
    return;
  }
  const gk_gemm_variant *v = g->v;
  const int swapped = g->swapped;
  const int b_packed = g->b->kind == GK_OPERAND_PACKED;
  const size_t m = g->m, n = g->n, k = g->k, mc = g->mc, mblocks = g->mblocks;
  // Rows and columns of the product the micro-kernel sees.
  const size_t rows_total = swapped ? n : m, cols_total = swapped ? m : n;
  const int mr = v->mr, nr = v->nr;
  const gk_epilogue *ep = g->ep;
  const int accumulate = ep && ep->accumulate;
  const int want_stats = ep && ep->col_sum && ep->col_sumsq;
  float *apack = g->apack_all + (size_t)tid * GK_MC_MAX * GK_KC;
  double *partial = g->partial;
  if (want_stats) {
    stats_zero(g, tid, nth);
    gk_barrier(nth);
  }
  // Column blocks hold a whole number of NR-wide panels (NR is 16 on x86, 12 on NEON).
  const size_t nc_block = GK_NC_MAX / (size_t)nr * (size_t)nr;
  for (size_t jc = 0; jc < cols_total; jc += nc_block) {
    size_t ncur = cols_total - jc < nc_block ? cols_total - jc : nc_block;
    size_t npan = div_up(ncur, (size_t)nr);
    size_t nchunks = 1;
    if (mblocks < 2 * (size_t)nth) {
      nchunks = div_up(2 * (size_t)nth, mblocks);
      if (nchunks > npan) nchunks = npan;
    }
    size_t pan_per_chunk = div_up(npan, nchunks);
    // Few row blocks split over columns: every task would pack the same A block, so the threads
    // pack all of A once, together, into the shared region (small M, e.g. batch-1 inference).
    const int shared_a = nchunks > 1;
    // Swapped: a statistics granule (GK_STAT_ROWS output rows) must stay within one task.
    if (swapped) pan_per_chunk = round_up(pan_per_chunk, GK_STAT_ROWS / (size_t)nr);
    size_t kstep = k == 0 ? 1 : k;
    for (size_t pc = 0; pc < kstep; pc += GK_KC) {
      size_t kc = k == 0 ? 0 : (k - pc < GK_KC ? k - pc : GK_KC);
      int last = pc + GK_KC >= kstep;
      int add_to_c = pc > 0 || accumulate || k == 0;
      if (kc > 0 && !b_packed) {
        if (swapped) {
          for (size_t p = (size_t)tid; p < npan; p += (size_t)nth)
            gk_pack_a(g->a, m, jc + p * nr, nr, pc, kc, g->bpack + p * kc * nr);
        } else {
          // Contiguous panel ranges per thread, packed row by row.
          size_t per = div_up(npan, (size_t)nth), p0 = (size_t)tid * per;
          size_t p1 = p0 + per < npan ? p0 + per : npan;
          gk_pack_b_panels(g->b, n, jc, p0, p1, nr, pc, kc, g->bpack);
        }
        gk_barrier(nth);
      }
      if (shared_a && kc > 0) {
        size_t qtotal = div_up(rows_total, (size_t)mr);
        for (size_t q = (size_t)tid; q < qtotal; q += (size_t)nth) {
          float *dst = g->apack_all + q * kc * mr;
          if (swapped) gk_pack_b(g->b, n, q * mr, mr, pc, kc, dst);
          else gk_pack_a(g->a, m, q * mr, mr, pc, kc, dst);
        }
        gk_barrier(nth);
      }
      // Panels of this k block: packed here, or read in place from prepacked weights.
      const float *bblock = b_packed ? g->b->data + pc * round_up(n, (size_t)nr) + (jc / nr) * kc * nr : g->bpack;
      for (size_t task = (size_t)tid; task < mblocks * nchunks; task += (size_t)nth) {
        size_t ib = task / nchunks, ic = task % nchunks;
        size_t m0 = ib * mc;
        size_t mcur = rows_total - m0 < mc ? rows_total - m0 : mc;
        size_t p0 = ic * pan_per_chunk, p1 = p0 + pan_per_chunk;
        if (p1 > npan) p1 = npan;
        if (p0 >= p1) continue;
        size_t qpan = div_up(mcur, (size_t)mr);
        // This task's A panels: its own packing, or its rows of the shared packing.
        float *atask = shared_a ? g->apack_all + (m0 / (size_t)mr) * kc * mr : apack;
        if (kc > 0 && !shared_a) {
          if (swapped) {
            for (size_t q = 0; q < qpan; q++) gk_pack_b(g->b, n, m0 + q * mr, mr, pc, kc, apack + q * kc * mr);
          } else {
            gk_pack_a_panels(g->a, m, m0, qpan, mr, pc, kc, apack);
          }
        }
        // Output row offsets of this task's rows, looked up once (not per tile).
        size_t row_off[GK_MC_MAX];
        if (!swapped) {
          for (size_t r = 0; r < mcur; r++) row_off[r] = gk_rowmap_off(&g->c->rows, m0 + r);
        }
        for (size_t p = p0; p < p1; p++) {
          size_t n0 = jc + p * nr;
          int nvalid = (int)(cols_total - n0 < (size_t)nr ? cols_total - n0 : (size_t)nr);
          for (size_t q = 0; q < qpan; q++) {
            size_t r0 = m0 + q * mr;
            int mvalid = (int)(rows_total - r0 < (size_t)mr ? rows_total - r0 : (size_t)mr);
            // Output rows of this tile: tile rows, or tile columns when swapped.
            float *rows[GK_NR_MAX];
            uint8_t *u8rows[GK_NR_MAX];
            size_t out_row0 = swapped ? n0 : r0, out_col0 = swapped ? r0 : n0;
            int out_rows = swapped ? nvalid : mvalid, out_cols = swapped ? mvalid : nvalid;
            for (int r = 0; r < out_rows; r++) {
              size_t off = (swapped ? gk_rowmap_off(&g->c->rows, out_row0 + r) : row_off[r0 - m0 + r]) + out_col0;
              rows[r] = g->c->data + off;
              if (ep && ep->u8) u8rows[r] = ep->u8 + off;
            }
            if (kc > 0) {
              const float *ap = atask + q * kc * mr, *bp = bblock + p * kc * nr;
              if (!swapped && mvalid == mr && nvalid == nr) {
                v->ukernel(kc, ap, bp, rows, add_to_c);
              } else {
                float tile[GK_MR_MAX * GK_NR_MAX] __attribute__((aligned(64)));
                float *trows[GK_MR_MAX];
                for (int r = 0; r < mr; r++) trows[r] = tile + r * nr;
                if (add_to_c) {
                  if (swapped) {
                    for (int r = 0; r < out_rows; r++)
                      for (int cc = 0; cc < out_cols; cc++) trows[cc][r] = rows[r][cc];
                  } else {
                    for (int r = 0; r < mvalid; r++)
                      memcpy(trows[r], rows[r], (size_t)nvalid * sizeof(float));
                  }
                }
                v->ukernel(kc, ap, bp, trows, add_to_c);
                if (swapped) {
                  for (int r = 0; r < out_rows; r++)
                    for (int cc = 0; cc < out_cols; cc++) rows[r][cc] = trows[cc][r];
                } else {
                  for (int r = 0; r < mvalid; r++)
                    memcpy(rows[r], trows[r], (size_t)nvalid * sizeof(float));
                }
              }
            }
            if (last) {
              double *ps = NULL, *pq = NULL;
              if (want_stats) {
                // partial layout: [granule][sum | sumsq][n]; a tile's output rows share a granule.
                size_t gr = out_row0 / GK_STAT_ROWS;
                ps = partial + gr * n * 2 + out_col0;
                pq = partial + gr * n * 2 + n + out_col0;
              }
              epilogue_rows(rows, ep && ep->u8 ? u8rows : NULL, out_rows, out_cols, out_col0, ep, ps, pq);
            }
          }
        }
      }
      // The next k block repacks B (or the shared A); it must not start while others still read.
      if (!b_packed || shared_a) gk_barrier(nth);
    }
  }
  if (want_stats) {
    stats_reduce(g, tid, nth);
  }
}

static void gemm_body(void *ctx, int tid, int nth) { gk_gemm_thread((const gemm_call *)ctx, tid, nth); }

// Fills the per-call plan every thread works from. Returns 0 when the call must run as the
// scalar reference instead (a packed operand that does not match the variant or shape).
int gk_gemm_prepare(gemm_call *g, const gk_gemm_variant *v, size_t m, size_t n, size_t k,
                        const gk_operand *a, const gk_operand *b, const gk_output *c,
                        const gk_epilogue *ep, void *workspace, int threads) {
  g->v = v; g->m = m; g->n = n; g->k = k; g->a = a; g->b = b; g->c = c; g->ep = ep;
  // A narrow output (fewer than half an NR of columns) over many rows runs swapped; the choice
  // depends on the shape only, never on the thread count.
  g->swapped = 2 * n < (size_t)v->nr && m >= (size_t)v->nr && GK_STAT_ROWS % v->nr == 0 &&
               v->nr <= GK_NR_MAX && v->mr <= GK_MR_MAX && b->kind != GK_OPERAND_PACKED;
  if (b->kind == GK_OPERAND_PACKED && (b->packed_nr != v->nr || b->packed_k != k || b->packed_n != n))
    return 0;
  size_t rows_total = g->swapped ? n : m, cols_total = g->swapped ? m : n;
  size_t ncb = round_up(cols_total < GK_NC_MAX ? cols_total : GK_NC_MAX, GK_NC_ROUND);
  char *ws = (char *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  g->bpack = (float *)ws;
  g->apack_all = (float *)(ws + round_up(ncb * GK_KC * sizeof(float), 64));
  g->partial = (double *)((char *)g->apack_all +
                          round_up(2 * (size_t)threads * GK_MC_MAX * GK_KC * sizeof(float), 64));
  g->ngran = div_up(m, GK_STAT_ROWS);
  // Rows per task: a multiple of GK_STAT_ROWS, at most GK_MC_MAX, and sized so the blocks divide
  // evenly among the threads (otherwise the driver also splits columns, and every split packs its
  // A block again).
  size_t per_thread = div_up(rows_total, (size_t)threads * GK_MC_MAX);
  g->mc = round_up(div_up(rows_total, (size_t)threads * per_thread), GK_STAT_ROWS);
  if (g->mc > GK_MC_MAX) g->mc = GK_MC_MAX;
  g->mblocks = div_up(rows_total, g->mc);
  // Small M (fewer row blocks than twice the threads) with prepacked B: one synchronization.
  g->small_m = g->mblocks < 2 * (size_t)threads &&
               small_m_fits(g, 2 * (size_t)threads * GK_MC_MAX * GK_KC);
  // A K split when the shape asks for one (its region follows the statistics').
  g->kchunks = g->swapped ? 0 : gk_gemm_kchunks(m, n, k, ep, b->kind == GK_OPERAND_PACKED);
  if (g->kchunks) {
    size_t stats = div_up(m, GK_STAT_ROWS) * n * 2 * sizeof(double);
    g->kpartial = (float *)((char *)g->partial + round_up(stats, 64));
  }
  return 1;
}

void gk_gemm_zero_if_empty_k(const gemm_call *g) {
  if (g->k == 0 && !(g->ep && g->ep->accumulate)) {
    for (size_t r = 0; r < g->m; r++)
      memset(g->c->data + gk_rowmap_off(&g->c->rows, r), 0, g->n * sizeof(float));
  }
}

void gk_f32_gemm_with(const gk_gemm_variant *v, size_t m, size_t n, size_t k, const gk_operand *a,
                      const gk_operand *b, const gk_output *c, const gk_epilogue *ep,
                      void *workspace, int threads) {
  if (m == 0 || n == 0) return;
  if (threads < 1) threads = 1;
  gemm_call g;
  if (!gk_gemm_prepare(&g, v, m, n, k, a, b, c, ep, workspace, threads)) {
    gk_f32_gemm_ref(m, n, k, a, b, c, ep);
    return;
  }
  gk_gemm_zero_if_empty_k(&g);
  gk_run_parallel(threads, gemm_body, &g);
}

void gk_f32_gemm(size_t m, size_t n, size_t k, const gk_operand *a, const gk_operand *b,
                 const gk_output *c, const gk_epilogue *ep, void *workspace, int threads) {
  gk_f32_gemm_with(gk_config()->gemm, m, n, k, a, b, c, ep,
                   workspace, threads);
}
