// Portable 4x16 micro-kernel: the fallback on every CPU and the oracle for the ISA variants.
#include "../common/gk_internal.h"

void gk_f32_gemm_ukernel_4x16__scalar(size_t kc, const float *a, const float *b, float *const *c,
                                      int accumulate) {
  float acc[4][16];
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 16; j++) acc[r][j] = 0.0f;
  for (size_t k = 0; k < kc; k++) {
    const float *bk = b + k * 16;
    for (int r = 0; r < 4; r++) {
      float av = a[k * 4 + r];
      for (int j = 0; j < 16; j++) acc[r][j] += av * bk[j];
    }
  }
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 16; j++) c[r][j] = accumulate ? c[r][j] + acc[r][j] : acc[r][j];
}
