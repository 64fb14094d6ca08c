// CPU feature probe and the kernel configuration: one variant table per kernel family, each entry
// naming the features it needs; at load the probe marks what this CPU runs and fills gk_config()
// with each family's fastest available entry. Operators read gk_config() and choose nothing.
#include "gk_internal.h"
#include "../q8-gemm/q8_internal.h"

#include <stdio.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

// Each table is ordered from slowest to fastest; entry 0 is the scalar reference (needs nothing).
static gk_gemm_variant gk_gemm_variants[] = {
    {.name = "f32_gemm_4x16__scalar", .mr = 4, .nr = 16, .ukernel = gk_f32_gemm_ukernel_4x16__scalar},
#if defined(__x86_64__)
    {.name = "f32_gemm_6x16__avx2", .mr = 6, .nr = 16, .requires = GK_CPU_AVX2_FMA,
     .ukernel = gk_f32_gemm_ukernel_6x16__avx2},
#endif
#if defined(__aarch64__)
    {.name = "f32_gemm_8x12__neonfma", .mr = 8, .nr = 12, .requires = GK_CPU_ASIMD,
     .ukernel = gk_f32_gemm_ukernel_8x12__neonfma},
#endif
};

static gk_narrow_variant gk_narrow_variants[] = {
    {.name = "f32_deconv4s2_narrow__scalar", .row = gk_f32_deconv4s2_narrow_row__scalar},
#if defined(__x86_64__)
    {.name = "f32_deconv4s2_narrow__avx2", .requires = GK_CPU_AVX2_FMA, .row = gk_f32_deconv4s2_narrow_row__avx2},
#endif
#if defined(__aarch64__)
    {.name = "f32_deconv4s2_narrow__neon", .requires = GK_CPU_ASIMD, .row = gk_f32_deconv4s2_narrow_row__neon},
#endif
};

static gk_elementwise_variant gk_elementwise_variants[] = {
    {.name = "f32_elementwise__scalar", .bn_apply = gk_f32_bn_apply_ref, .act_backward = gk_f32_act_backward_ref,
     .tanh_backward = gk_f32_tanh_backward_ref},
#if defined(__x86_64__)
    {.name = "f32_elementwise__avx2", .requires = GK_CPU_AVX2_FMA, .bn_apply = gk_f32_bn_apply__avx2,
     .act_backward = gk_f32_act_backward__avx2, .tanh_backward = gk_f32_tanh_backward__avx2},
#endif
#if defined(__aarch64__)
    {.name = "f32_elementwise__neon", .requires = GK_CPU_ASIMD, .bn_apply = gk_f32_bn_apply__neon,
     .act_backward = gk_f32_act_backward__neon, .tanh_backward = gk_f32_tanh_backward__neon},
#endif
};

static gk_softmax_variant gk_softmax_variants[] = {
    {.name = "f32_softmax__scalar", .rows = gk_f32_softmax_rows_ref, .backward_rows = gk_f32_softmax_backward_rows_ref},
#if defined(__x86_64__)
    {.name = "f32_softmax__avx2", .requires = GK_CPU_AVX2_FMA, .rows = gk_f32_softmax_rows__avx2,
     .backward_rows = gk_f32_softmax_backward_rows__avx2},
#endif
#if defined(__aarch64__)
    {.name = "f32_softmax__neon", .requires = GK_CPU_ASIMD, .rows = gk_f32_softmax_rows__neon,
     .backward_rows = gk_f32_softmax_backward_rows__neon},
#endif
};

static gk_q8_variant gk_q8_variants[] = {
    {.name = "q8_gemm_4x16__scalar", .mr = 4, .nr = 16, .kgroup = 2, .ukernel = gk_q8_gemm_ukernel_4x16__scalar,
     .widen_u8 = gk_q8_widen_u8__scalar, .quantize_f32 = gk_q8_quantize_f32__scalar,
     .requant_u8 = gk_q8_requant_u8__scalar, .dequant = gk_q8_dequant__scalar, .narrow_row = gk_q8_narrow_row__scalar,
     .ukernel_w16 = gk_q8_gemm_w16_ukernel_4x16__scalar},
#if defined(__x86_64__)
    {.name = "q8_gemm_6x16__avx2", .mr = 6, .nr = 16, .requires = GK_CPU_AVX2_FMA, .kgroup = 2,
     .ukernel = gk_q8_gemm_ukernel_6x16__avx2, .widen_u8 = gk_q8_widen_u8__avx2,
     .quantize_f32 = gk_q8_quantize_f32__avx2, .requant_u8 = gk_q8_requant_u8__avx2, .dequant = gk_q8_dequant__avx2,
     .narrow_row = gk_q8_narrow_row__avx2, .ukernel_w16 = gk_q8_gemm_w16_ukernel_6x16__avx2},
#endif
#if defined(__aarch64__)
    {.name = "q8_gemm_4x16__neon", .mr = 4, .nr = 16, .requires = GK_CPU_ASIMD, .kgroup = 2,
     .ukernel = gk_q8_gemm_ukernel_4x16__neon, .widen_u8 = gk_q8_widen_u8__neon,
     .quantize_f32 = gk_q8_quantize_f32__neon, .requant_u8 = gk_q8_requant_u8__neon, .dequant = gk_q8_dequant__neon,
     .narrow_row = gk_q8_narrow_row__neon, .ukernel_w16 = gk_q8_gemm_w16_ukernel_4x16__neon},
    {.name = "q8_gemm_4x16__neondot", .mr = 4, .nr = 16, .requires = GK_CPU_ASIMD | GK_CPU_ASIMDDP, .kgroup = 4,
     .ukernel = gk_q8_gemm_ukernel_4x16__neondot, .widen_u8 = gk_q8_widen_u8__neon,
     .quantize_f32 = gk_q8_quantize_f32__neon, .rows_u8 = gk_q8_rows_u8__neondot,
     .rows_f32 = gk_q8_rows_f32__neondot, .requant_u8 = gk_q8_requant_u8__neon, .dequant = gk_q8_dequant__neon,
     .narrow_row = gk_q8_narrow_row__neon},
#endif
};

static gk_kernel_config gk_kernel_configuration;
static char gk_features[128] = "generic";

const gk_kernel_config *gk_config(void) { return &gk_kernel_configuration; }
const char *gk_cpu_features(void) { return gk_features; }

static unsigned gk_probe_features(void) {
  unsigned f = 0;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= GK_CPU_AVX2_FMA;
  if (__builtin_cpu_supports("avx512f")) f |= GK_CPU_AVX512F;
  if (__builtin_cpu_supports("avx512vnni")) f |= GK_CPU_AVX512VNNI;
  snprintf(gk_features, sizeof gk_features, "x86_64%s%s%s", f & GK_CPU_AVX2_FMA ? " avx2 fma" : "",
           f & GK_CPU_AVX512F ? " avx512f" : "", f & GK_CPU_AVX512VNNI ? " avx512vnni" : "");
#elif defined(__aarch64__)
  // ASIMD (NEON with FMA) is part of AArch64; the probe still asks, and records dot product
  // support (sdot, Cortex-A76 / Pi 5) for the int8 kernels.
  f |= GK_CPU_ASIMD;
#if defined(__linux__)
  unsigned long hw = getauxval(AT_HWCAP);
#ifdef HWCAP_ASIMD
  if (!(hw & HWCAP_ASIMD)) f &= ~(unsigned)GK_CPU_ASIMD;
#endif
#ifdef HWCAP_ASIMDDP
  if (hw & HWCAP_ASIMDDP) f |= GK_CPU_ASIMDDP;
#endif
#endif
  snprintf(gk_features, sizeof gk_features, "aarch64%s%s", f & GK_CPU_ASIMD ? " asimd" : "",
           f & GK_CPU_ASIMDDP ? " asimddp" : "");
#endif
  return f;
}

// Per family: the table's accessors, and `force` (tests, benchmarks: index -1 or an unavailable
// entry restores the probe's choice, the last available entry).
#define GK_VARIANT_FAMILY(FAMILY, TYPE)                                                          \
  enum { GK_##FAMILY##_COUNT = sizeof gk_##FAMILY##_variants / sizeof gk_##FAMILY##_variants[0] }; \
  static int gk_##FAMILY##_index;                                                                \
  static void gk_##FAMILY##_mark(unsigned features) {                                             \
    for (int i = 0; i < GK_##FAMILY##_COUNT; i++)                                                 \
      gk_##FAMILY##_variants[i].available =                                                      \
          (gk_##FAMILY##_variants[i].requires & features) == gk_##FAMILY##_variants[i].requires;  \
  }                                                                                              \
  static int gk_##FAMILY##_fastest(void) {                                                       \
    int best = 0;                                                                                \
    for (int i = 0; i < GK_##FAMILY##_COUNT; i++)                                                 \
      if (gk_##FAMILY##_variants[i].available) best = i;                                         \
    return best;                                                                                 \
  }                                                                                              \
  int gk_##FAMILY##_variant_count(void) { return GK_##FAMILY##_COUNT; }                            \
  const TYPE *gk_##FAMILY##_variant_at(int index) {                                              \
    return &gk_##FAMILY##_variants[index >= 0 && index < GK_##FAMILY##_COUNT ? index : 0];       \
  }                                                                                              \
  int gk_##FAMILY##_selected_variant(void) { return gk_##FAMILY##_index; }                        \
  void gk_##FAMILY##_force_variant(int index) {                                                   \
    int ok = index >= 0 && index < GK_##FAMILY##_COUNT && gk_##FAMILY##_variants[index].available; \
    gk_##FAMILY##_index = ok ? index : gk_##FAMILY##_fastest();                                   \
    gk_kernel_configuration.FAMILY = &gk_##FAMILY##_variants[gk_##FAMILY##_index];                \
  }

GK_VARIANT_FAMILY(gemm, gk_gemm_variant)
GK_VARIANT_FAMILY(narrow, gk_narrow_variant)
GK_VARIANT_FAMILY(elementwise, gk_elementwise_variant)
GK_VARIANT_FAMILY(q8, gk_q8_variant)
GK_VARIANT_FAMILY(softmax, gk_softmax_variant)

__attribute__((constructor)) static void gk_configure(void) {
  unsigned f = gk_probe_features();
  gk_kernel_configuration.features = f;
  gk_gemm_mark(f);
  gk_narrow_mark(f);
  gk_elementwise_mark(f);
  gk_q8_mark(f);
  gk_softmax_mark(f);
  gk_gemm_force_variant(-1);
  gk_narrow_force_variant(-1);
  gk_elementwise_force_variant(-1);
  gk_q8_force_variant(-1);
  gk_softmax_force_variant(-1);
}
