// The GEMM edge-shape matrix every variant is tested over, by the Swift tests (KernelTests) and
// the C driver (Tests/kernel-driver) alike: m, n, k of 1, not multiples of any MR (4, 6, 8) or NR
// (12, 16), around the 48-row statistics granule and the 256-deep K block.
#ifndef GEMM_EDGE_SHAPES_H
#define GEMM_EDGE_SHAPES_H
#include <stddef.h>

typedef struct gemm_edge_shape {
  size_t m, n, k;
} gemm_edge_shape;

enum { GEMM_EDGE_MS = 7, GEMM_EDGE_NS = 6, GEMM_EDGE_KS = 5 };

static inline int gemm_edge_shape_count(void) { return GEMM_EDGE_MS * GEMM_EDGE_NS * GEMM_EDGE_KS; }

/// Shape `index` of gemm_edge_shape_count(), m-major then n then k.
static inline gemm_edge_shape gemm_edge_shape_at(int index) {
  static const size_t ms[GEMM_EDGE_MS] = {1, 5, 7, 13, 48, 49, 100};
  static const size_t ns[GEMM_EDGE_NS] = {1, 3, 15, 17, 33, 64};
  static const size_t ks[GEMM_EDGE_KS] = {1, 7, 100, 257, 513};
  gemm_edge_shape s = {ms[index / (GEMM_EDGE_NS * GEMM_EDGE_KS)], ns[index / GEMM_EDGE_KS % GEMM_EDGE_NS],
                       ks[index % GEMM_EDGE_KS]};
  return s;
}
#endif
