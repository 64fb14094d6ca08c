// Sliced Wasserstein terms (the SWD of ProGAN, Karras et al. 2018): for each unit direction v the
// mean over rows of |sort(A v) - sort(B v)|. Directions go in blocks of GK_SWD_BLOCK: the block's
// projections of A and of B are two GEMMs (rows x dim) * (dim x block), then each direction's two
// columns are radix-sorted and compared by one thread. Sorting is exact and every term is one
// thread's sum in row order, so the terms do not depend on the thread count; they differ from
// gk_f32_swd_ref only by the projections' fp32 rounding (GEMM order against a plain dot).
#include "../common/gk_internal.h"

enum { GK_SWD_BLOCK = 64, GK_SWD_RADIX_BITS = 11, GK_SWD_BUCKETS = 1 << GK_SWD_RADIX_BITS };

static size_t align64(size_t bytes) { return (bytes + 63) / 64 * 64; }

// A float's bits made monotone as unsigned: negative values flipped whole, others get the sign bit.
static inline uint32_t sortable_key(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u);
}

static inline float key_value(uint32_t k) {
  uint32_t u = k ^ (((k >> 31) - 1) | 0x80000000u);
  return gk_bits_to_f32(u);
}

// Sorts column `col` of p (rows x GK_SWD_BLOCK) into keys (rows), ascending, with tmp (rows)
// and hist (3 x GK_SWD_BUCKETS): least significant digit first, 11 + 11 + 10 bits.
static void sort_column(const float *p, size_t rows, int col, uint32_t *keys, uint32_t *tmp, uint32_t *hist) {
  memset(hist, 0, 3 * GK_SWD_BUCKETS * sizeof *hist);
  for (size_t r = 0; r < rows; r++) {
    uint32_t k = sortable_key(p[r * GK_SWD_BLOCK + (size_t)col]);
    keys[r] = k;
    hist[k & (GK_SWD_BUCKETS - 1)]++;
    hist[GK_SWD_BUCKETS + ((k >> GK_SWD_RADIX_BITS) & (GK_SWD_BUCKETS - 1))]++;
    hist[2 * GK_SWD_BUCKETS + (k >> (2 * GK_SWD_RADIX_BITS))]++;
  }
  uint32_t *src = keys, *dst = tmp;
  for (int pass = 0; pass < 3; pass++) {
    uint32_t *h = hist + pass * GK_SWD_BUCKETS, sum = 0;
    for (int b = 0; b < GK_SWD_BUCKETS; b++) { uint32_t c = h[b]; h[b] = sum; sum += c; }
    int shift = pass * GK_SWD_RADIX_BITS;
    for (size_t r = 0; r < rows; r++) {
      uint32_t k = src[r];
      dst[h[(k >> shift) & (GK_SWD_BUCKETS - 1)]++] = k;
    }
    uint32_t *t = src; src = dst; dst = t;
  }
  // Three passes: the result is in tmp; one copy back keeps the contract "sorted into keys".
  memcpy(keys, src, rows * sizeof *keys);
}

typedef struct {
  const float *pa, *pb;
  size_t rows;
  int first, count;  // directions of this block: first ... first + count - 1
  double *terms;
  unsigned char *scratch;
  size_t scratch_stride;
} swd_block_ctx;

static void swd_block_body(void *vctx, int tid, int nth) {
  swd_block_ctx *ctx = vctx;
  size_t rows = ctx->rows;
  uint32_t *ka = (uint32_t *)(ctx->scratch + (size_t)tid * ctx->scratch_stride);
  uint32_t *kb = ka + rows, *tmp = kb + rows, *hist = tmp + rows;
  for (int d = tid; d < ctx->count; d += nth) {
    sort_column(ctx->pa, rows, d, ka, tmp, hist);
    sort_column(ctx->pb, rows, d, kb, tmp, hist);
    double s = 0;
    for (size_t r = 0; r < rows; r++) s += fabsf(key_value(ka[r]) - key_value(kb[r]));
    ctx->terms[ctx->first + d] = s / (double)rows;
  }
}

static size_t swd_scratch_stride(size_t rows) {
  return align64((3 * rows + 3 * GK_SWD_BUCKETS) * sizeof(uint32_t));
}

size_t gk_f32_swd_workspace_bytes(size_t rows, size_t dim, int threads) {
  if (threads < 1) threads = 1;
  size_t projections = 2 * align64(rows * GK_SWD_BLOCK * sizeof(float));
  return projections + (size_t)threads * swd_scratch_stride(rows) +
         gk_f32_gemm_workspace_bytes(rows, GK_SWD_BLOCK, dim, threads);
}

void gk_f32_swd(const float *a, const float *b, size_t rows, size_t dim, const float *dirs, int ndir,
                double *terms, void *workspace, int threads) {
  if (threads < 1) threads = 1;
  unsigned char *ws = workspace;
  float *pa = (float *)ws, *pb = (float *)(ws + align64(rows * GK_SWD_BLOCK * sizeof(float)));
  unsigned char *scratch = ws + 2 * align64(rows * GK_SWD_BLOCK * sizeof(float));
  void *gemm_ws = scratch + (size_t)threads * swd_scratch_stride(rows);
  gk_operand A = gk_operand_matrix(a, dim), B = gk_operand_matrix(b, dim);
  gk_epilogue plain = {0};
  for (int first = 0; first < ndir; first += GK_SWD_BLOCK) {
    int count = ndir - first < GK_SWD_BLOCK ? ndir - first : GK_SWD_BLOCK;
    // The block's directions as a (dim x count) operand: element (k, j) = dirs[(first + j) * dim + k].
    gk_operand V = gk_operand_matrix_t(dirs + (size_t)first * dim, dim);
    gk_output PA = gk_output_dense(pa, GK_SWD_BLOCK), PB = gk_output_dense(pb, GK_SWD_BLOCK);
    gk_f32_gemm(rows, (size_t)count, dim, &A, &V, &PA, &plain, gemm_ws, threads);
    gk_f32_gemm(rows, (size_t)count, dim, &B, &V, &PB, &plain, gemm_ws, threads);
    swd_block_ctx ctx = {pa, pb, rows, first, count, terms, scratch, swd_scratch_stride(rows)};
    gk_run_parallel(threads, swd_block_body, &ctx);
  }
}
