// AVX2 + FMA 6x16 micro-kernel: 12 ymm accumulators, 2 B loads and 6 broadcasts per k step.
// B panels may be caller-packed weights of any alignment: loads are vmovups.
// The k loop is inline assembly with a fixed register assignment (ymm0-11 accumulators, ymm12-13
// B, ymm14-15 broadcasts): compilers spill one accumulator at 16 live ymm registers, which puts a
// store-forwarding chain into every step (36 instead of ~90 GFLOP/s per core here).
#if defined(__x86_64__)
#include "../common/gk_internal.h"
#include <immintrin.h>

GK_TARGET_AVX2
void gk_f32_gemm_ukernel_6x16__avx2(size_t kc, const float *a, const float *b, float *const *c,
                                    int accumulate) {
  float acc[6 * 16] __attribute__((aligned(32)));
  __asm__ volatile(
      "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
      "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"
      "vxorps %%ymm2, %%ymm2, %%ymm2\n\t"
      "vxorps %%ymm3, %%ymm3, %%ymm3\n\t"
      "vxorps %%ymm4, %%ymm4, %%ymm4\n\t"
      "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"
      "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"
      "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"
      "vxorps %%ymm8, %%ymm8, %%ymm8\n\t"
      "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"
      "vxorps %%ymm10, %%ymm10, %%ymm10\n\t"
      "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"
      "test %[kc], %[kc]\n\t"
      "jz 2f\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vmovups (%[b]), %%ymm12\n\t"
      "vmovups 32(%[b]), %%ymm13\n\t"
      "vbroadcastss (%[a]), %%ymm14\n\t"
      "vfmadd231ps %%ymm12, %%ymm14, %%ymm0\n\t"
      "vfmadd231ps %%ymm13, %%ymm14, %%ymm1\n\t"
      "vbroadcastss 4(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm2\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %%ymm3\n\t"
      "vbroadcastss 8(%[a]), %%ymm14\n\t"
      "vfmadd231ps %%ymm12, %%ymm14, %%ymm4\n\t"
      "vfmadd231ps %%ymm13, %%ymm14, %%ymm5\n\t"
      "vbroadcastss 12(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm6\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %%ymm7\n\t"
      "vbroadcastss 16(%[a]), %%ymm14\n\t"
      "vfmadd231ps %%ymm12, %%ymm14, %%ymm8\n\t"
      "vfmadd231ps %%ymm13, %%ymm14, %%ymm9\n\t"
      "vbroadcastss 20(%[a]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %%ymm10\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %%ymm11\n\t"
      "add $24, %[a]\n\t"
      "add $64, %[b]\n\t"
      "dec %[kc]\n\t"
      "jnz 1b\n"
      "2:\n\t"
      "vmovaps %%ymm0, 0(%[acc])\n\t"
      "vmovaps %%ymm1, 32(%[acc])\n\t"
      "vmovaps %%ymm2, 64(%[acc])\n\t"
      "vmovaps %%ymm3, 96(%[acc])\n\t"
      "vmovaps %%ymm4, 128(%[acc])\n\t"
      "vmovaps %%ymm5, 160(%[acc])\n\t"
      "vmovaps %%ymm6, 192(%[acc])\n\t"
      "vmovaps %%ymm7, 224(%[acc])\n\t"
      "vmovaps %%ymm8, 256(%[acc])\n\t"
      "vmovaps %%ymm9, 288(%[acc])\n\t"
      "vmovaps %%ymm10, 320(%[acc])\n\t"
      "vmovaps %%ymm11, 352(%[acc])\n\t"
      "vzeroupper\n\t"
      : [a] "+r"(a), [b] "+r"(b), [kc] "+r"(kc)
      : [acc] "r"(acc)
      : "ymm0", "ymm1", "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10",
        "ymm11", "ymm12", "ymm13", "ymm14", "ymm15", "memory", "cc");
  for (int r = 0; r < 6; r++) {
    float *row = c[r];
    __m256 lo = _mm256_load_ps(acc + r * 16), hi = _mm256_load_ps(acc + r * 16 + 8);
    if (accumulate) {
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, lo);
    _mm256_storeu_ps(row + 8, hi);
  }
}
#endif
