// Shared by the GEMM driver (gemm.c), its packing (pack.c) and step sequences (sequence.c).
#ifndef GK_GEMM_INTERNAL_H
#define GK_GEMM_INTERNAL_H

#include "../common/gk_internal.h"

#include <stdint.h>

static inline size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }
static inline size_t round_up(size_t a, size_t b) { return div_up(a, b) * b; }

// Packing (pack.c). A panel: rows r0..r0+mr-1 x columns k0..k0+kc-1 stored [kc][mr]; a B panel:
// rows k0..k0+kc-1 x columns n0..n0+nr-1 stored [kc][nr]; zero past the matrix.
void gk_pack_a(const gk_operand *a, size_t m, size_t r0, int mr, size_t k0, size_t kc, float *dst);
void gk_pack_a_panels(const gk_operand *a, size_t m, size_t r0, size_t npanels, int mr, size_t k0, size_t kc,
                      float *dst);
void gk_pack_b(const gk_operand *b, size_t n, size_t n0, int nr, size_t k0, size_t kc, float *dst);
void gk_pack_b_panels(const gk_operand *b, size_t n, size_t n0, size_t p_begin, size_t p_end,
                      int nr, size_t k0, size_t kc, float *bpack);

// One GEMM call as every thread sees it (gemm.c).
typedef struct gemm_call {
  const gk_gemm_variant *v;
  size_t m, n, k;
  const gk_operand *a, *b;
  const gk_output *c;
  const gk_epilogue *ep;
  float *bpack, *apack_all;
  double *partial;
  size_t mc, mblocks, ngran;
  int swapped;
  int small_m;  // gemm_thread_small_m applies
  // K split (weight gradients: k the batch's pixels, far more than m and n): chunks of
  // GK_KSPLIT_CHUNK k values, each a partial m x n product in `kpartial`, summed in chunk order.
  size_t kchunks;
  float *kpartial;
} gemm_call;

/// The K-split chunk: a multiple of GK_KC, fixed (the split depends on the shape only, so the
/// sums do not depend on the thread count).
enum { GK_KSPLIT_CHUNK = 8 * GK_KC };
/// Chunks a call of this shape splits K into (0: no split). No epilogue but accumulate may apply.
size_t gk_gemm_kchunks(size_t m, size_t n, size_t k, const gk_epilogue *ep, int b_packed);

/// Fills the plan; 0 when the call must run as the scalar reference instead.
int gk_gemm_prepare(gemm_call *g, const gk_gemm_variant *v, size_t m, size_t n, size_t k,
                    const gk_operand *a, const gk_operand *b, const gk_output *c,
                    const gk_epilogue *ep, void *workspace, int threads);
void gk_gemm_zero_if_empty_k(const gemm_call *g);
/// Thread tid of nth does its share (inside a parallel region, or alone with nth = 1).
void gk_gemm_thread(const gemm_call *g, int tid, int nth);

#endif
