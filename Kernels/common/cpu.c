// CPU feature probe and the variant table, filled once when the library loads.
#include "gk_internal.h"
#include "../q8-gemm/q8_internal.h"

#include <stdio.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

static gk_gemm_variant gk_gemm_variants[] = {
    {"f32_gemm_4x16__scalar", 4, 16, 1, gk_f32_gemm_ukernel_4x16__scalar},
#if defined(__x86_64__)
    {"f32_gemm_6x16__avx2", 6, 16, 0, gk_f32_gemm_ukernel_6x16__avx2},
#endif
#if defined(__aarch64__)
    {"f32_gemm_8x12__neonfma", 8, 12, 0, gk_f32_gemm_ukernel_8x12__neonfma},
#endif
};
enum { GK_GEMM_VARIANTS = sizeof gk_gemm_variants / sizeof gk_gemm_variants[0] };

static gk_narrow_variant gk_narrow_variants[] = {
    {"f32_deconv4s2_narrow__scalar", 1, gk_f32_deconv4s2_narrow_row_scalar},
#if defined(__x86_64__)
    {"f32_deconv4s2_narrow__avx2", 0, gk_f32_deconv4s2_narrow_row__avx2},
#endif
#if defined(__aarch64__)
    {"f32_deconv4s2_narrow__neon", 0, gk_f32_deconv4s2_narrow_row__neon},
#endif
};
enum { GK_NARROW_VARIANTS = sizeof gk_narrow_variants / sizeof gk_narrow_variants[0] };
static int gk_narrow_best = 0, gk_narrow_forced = -1;

static gk_elementwise_variant gk_elementwise_variants[] = {
    {"f32_elementwise__scalar", 1, gk_f32_bn_apply_ref, gk_f32_act_backward_ref, gk_f32_tanh_backward_ref},
#if defined(__aarch64__)
    {"f32_elementwise__neon", 0, gk_f32_bn_apply__neon, gk_f32_act_backward__neon, gk_f32_tanh_backward__neon},
#endif
};
enum { GK_ELEMENTWISE_VARIANTS = sizeof gk_elementwise_variants / sizeof gk_elementwise_variants[0] };
static int gk_elementwise_best = 0, gk_elementwise_forced = -1;

static gk_q8_variant gk_q8_variants[] = {
    {"q8_gemm_4x16__scalar", 4, 16, 1, 2, gk_q8_gemm_ukernel_4x16__scalar, gk_q8_widen_u8__scalar,
     gk_q8_quantize_f32__scalar, NULL, NULL, gk_q8_requant_u8__scalar, gk_q8_dequant__scalar, gk_q8_narrow_row__scalar,
     gk_q8_gemm_w16_ukernel_4x16__scalar},
#if defined(__x86_64__)
    {"q8_gemm_6x16__avx2", 6, 16, 0, 2, gk_q8_gemm_ukernel_6x16__avx2, gk_q8_widen_u8__avx2,
     gk_q8_quantize_f32__avx2, NULL, NULL, gk_q8_requant_u8__avx2, gk_q8_dequant__avx2, gk_q8_narrow_row__avx2,
     gk_q8_gemm_w16_ukernel_6x16__avx2},
#endif
#if defined(__aarch64__)
    {"q8_gemm_4x16__neon", 4, 16, 0, 2, gk_q8_gemm_ukernel_4x16__neon, gk_q8_widen_u8__neon,
     gk_q8_quantize_f32__neon, NULL, NULL, gk_q8_requant_u8__neon, gk_q8_dequant__neon,
     gk_q8_narrow_row__neon, gk_q8_gemm_w16_ukernel_4x16__neon},
    {"q8_gemm_4x16__neondot", 4, 16, 0, 4, gk_q8_gemm_ukernel_4x16__neondot, gk_q8_widen_u8__neon,
     gk_q8_quantize_f32__neon, gk_q8_rows_u8__neondot, gk_q8_rows_f32__neondot,
     gk_q8_requant_u8__neon, gk_q8_dequant__neon, gk_q8_narrow_row__neon, NULL},
#endif
};
enum { GK_Q8_VARIANTS = sizeof gk_q8_variants / sizeof gk_q8_variants[0] };
static int gk_q8_best = 0, gk_q8_forced = -1;

static int gk_gemm_best = 0;
static int gk_gemm_forced = -1;
static char gk_features[128] = "";

__attribute__((constructor)) static void gk_probe_cpu(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  int avx512 = __builtin_cpu_supports("avx512f");
  int vnni = __builtin_cpu_supports("avx512vnni");
  snprintf(gk_features, sizeof gk_features, "x86_64%s%s%s", avx2 ? " avx2 fma" : "",
           avx512 ? " avx512f" : "", vnni ? " avx512vnni" : "");
  gk_gemm_variants[1].available = avx2;
  gk_narrow_variants[1].available = avx2;
  gk_q8_variants[1].available = avx2;
#elif defined(__aarch64__)
  // ASIMD (NEON with FMA) is part of AArch64; the probe still asks, and records dot product
  // support (sdot, Cortex-A76 / Pi 5) for the int8 kernels.
  int asimd = 1, dotprod = 0;
#if defined(__linux__)
  unsigned long hw = getauxval(AT_HWCAP);
#ifdef HWCAP_ASIMD
  asimd = (hw & HWCAP_ASIMD) != 0;
#endif
#ifdef HWCAP_ASIMDDP
  dotprod = (hw & HWCAP_ASIMDDP) != 0;
#endif
#endif
  snprintf(gk_features, sizeof gk_features, "aarch64%s%s", asimd ? " asimd" : "", dotprod ? " asimddp" : "");
  gk_gemm_variants[1].available = asimd;
  gk_narrow_variants[1].available = asimd;
  gk_q8_variants[1].available = asimd;
  gk_q8_variants[2].available = asimd && dotprod;
  gk_elementwise_variants[1].available = asimd;
#else
  snprintf(gk_features, sizeof gk_features, "generic");
#endif
  // Preference: the last available entry (the table is ordered from slowest to fastest).
  for (int i = 0; i < GK_GEMM_VARIANTS; i++)
    if (gk_gemm_variants[i].available) gk_gemm_best = i;
  for (int i = 0; i < GK_NARROW_VARIANTS; i++)
    if (gk_narrow_variants[i].available) gk_narrow_best = i;
  for (int i = 0; i < GK_Q8_VARIANTS; i++)
    if (gk_q8_variants[i].available) gk_q8_best = i;
  for (int i = 0; i < GK_ELEMENTWISE_VARIANTS; i++)
    if (gk_elementwise_variants[i].available) gk_elementwise_best = i;
}

int gk_elementwise_variant_count(void) { return GK_ELEMENTWISE_VARIANTS; }
const gk_elementwise_variant *gk_elementwise_variant_at(int index) {
  if (index < 0 || index >= GK_ELEMENTWISE_VARIANTS) return &gk_elementwise_variants[0];
  return &gk_elementwise_variants[index];
}
int gk_elementwise_selected_variant(void) { return gk_elementwise_forced >= 0 ? gk_elementwise_forced : gk_elementwise_best; }
void gk_elementwise_force_variant(int index) {
  gk_elementwise_forced = (index >= 0 && index < GK_ELEMENTWISE_VARIANTS && gk_elementwise_variants[index].available) ? index : -1;
}

int gk_q8_variant_count(void) { return GK_Q8_VARIANTS; }
const gk_q8_variant *gk_q8_variant_at(int index) {
  if (index < 0 || index >= GK_Q8_VARIANTS) return &gk_q8_variants[0];
  return &gk_q8_variants[index];
}
int gk_q8_selected_variant(void) { return gk_q8_forced >= 0 ? gk_q8_forced : gk_q8_best; }
void gk_q8_force_variant(int index) {
  gk_q8_forced = (index >= 0 && index < GK_Q8_VARIANTS && gk_q8_variants[index].available) ? index : -1;
}

int gk_narrow_variant_count(void) { return GK_NARROW_VARIANTS; }
const gk_narrow_variant *gk_narrow_variant_at(int index) {
  if (index < 0 || index >= GK_NARROW_VARIANTS) return &gk_narrow_variants[0];
  return &gk_narrow_variants[index];
}
int gk_narrow_selected_variant(void) { return gk_narrow_forced >= 0 ? gk_narrow_forced : gk_narrow_best; }
void gk_narrow_force_variant(int index) {
  gk_narrow_forced = (index >= 0 && index < GK_NARROW_VARIANTS && gk_narrow_variants[index].available) ? index : -1;
}

int gk_gemm_variant_count(void) { return GK_GEMM_VARIANTS; }

const gk_gemm_variant *gk_gemm_variant_at(int index) {
  if (index < 0 || index >= GK_GEMM_VARIANTS) return &gk_gemm_variants[0];
  return &gk_gemm_variants[index];
}

int gk_gemm_selected_variant(void) { return gk_gemm_forced >= 0 ? gk_gemm_forced : gk_gemm_best; }

void gk_gemm_force_variant(int index) {
  gk_gemm_forced = (index >= 0 && index < GK_GEMM_VARIANTS && gk_gemm_variants[index].available)
                       ? index
                       : -1;
}

const char *gk_cpu_features(void) { return gk_features; }
