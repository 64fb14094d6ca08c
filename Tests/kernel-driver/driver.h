// Shared by the kernel driver's files: the pass/fail counter, deterministic random inputs and
// error measures, and each family's test entry points (run per available variant by main).
#ifndef KERNEL_DRIVER_H
#define KERNEL_DRIVER_H
#include "gan_kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int passed, failed;
void check(int ok, const char *what);
float urand(void);
float *frand(size_t n);
/// 64-byte aligned, with slack past `bytes`.
void *workspace(size_t bytes);
/// max |a - b| / (max |b| + 1e-6)
float rel_err(const float *a, const float *b, size_t n);
/// fp32 sums of k products in another order: error grows like sqrt(k) * eps.
float tol(size_t k);

// f32_tests.c
void test_gemm(int variant);
void test_threads_and_packing(int variant);
void test_layers(int variant);
void test_winograd(int variant);
void print_winograd_summary(void);
void test_narrow(int variant);
// q8_tests.c
void test_q8(int variant);
void test_q8_winograd(int variant);
// elementwise_tests.c
void test_elementwise(int variant);
void test_swd(void);
// attention_tests.c
void test_softmax(int variant);
void test_attention(void);
void test_spectral_norm(void);
void test_conditional(void);
void test_sagan_passes(void);
void test_attention_double_backward(void);
#endif
