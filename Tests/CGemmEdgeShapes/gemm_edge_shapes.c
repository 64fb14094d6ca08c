// Header-only: the edge-shape matrix is in include/gemm_edge_shapes.h.
#include "gemm_edge_shapes.h"
