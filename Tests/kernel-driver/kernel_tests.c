// The kernel reference tests without Swift (Swift for aarch64 cannot be installed here): every
// available GEMM and narrow-deconvolution variant against the scalar references over the
// edge-shape matrix, layer kernels against their direct definitions, thread-count determinism,
// and prepacked weights against packing per call. Built natively and cross-built for aarch64 (run
// under qemu-aarch64 as Cortex-A72 and Cortex-A76) by tools/test-kernels.sh. The families' tests
// are in f32_tests.c, q8_tests.c and elementwise_tests.c.
// Ends with "N passed, N failed"; exit status 1 on any failure.
#include "driver.h"

int passed, failed;

void check(int ok, const char *what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    if (failed <= 20) printf("FAIL: %s\n", what);
  }
}

static unsigned long long rng_state = 12345;
float urand(void) {
  rng_state += 0x9E3779B97F4A7C15ull;
  unsigned long long z = rng_state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (float)(z >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

float *frand(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = urand();
  return p;
}

void *workspace(size_t bytes) { return aligned_alloc(64, (bytes + 64 + 63) / 64 * 64); }

// max |a - b| / (max |b| + 1e-6)
float rel_err(const float *a, const float *b, size_t n) {
  float d = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(a[i])) return INFINITY;
    float e = fabsf(a[i] - b[i]);
    if (e > d) d = e;
    if (fabsf(b[i]) > m) m = fabsf(b[i]);
  }
  return d / (m + 1e-6f);
}

float tol(size_t k) { return 2e-6f * sqrtf((float)k) + 1e-6f; }

int main(void) {
  printf("kernel-driver: cpu %s\n", gk_cpu_features());
  for (int v = 0; v < gk_gemm_variant_count(); v++) {
    const gk_gemm_variant *g = gk_gemm_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    gk_gemm_force_variant(v);
    int before = passed + failed;
    test_gemm(v);
    test_threads_and_packing(v);
    test_layers(v);
    test_winograd(v);
    printf("  %s (%dx%d): %d checks\n", g->name, g->mr, g->nr, passed + failed - before);
  }
  gk_gemm_force_variant(-1);
  print_winograd_summary();
  for (int v = 0; v < gk_narrow_variant_count(); v++) {
    const gk_narrow_variant *g = gk_narrow_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    gk_narrow_force_variant(v);
    int before = passed + failed;
    test_narrow(v);
    printf("  %s: %d checks\n", g->name, passed + failed - before);
  }
  gk_narrow_force_variant(-1);
  for (int v = 0; v < gk_q8_variant_count(); v++) {
    const gk_q8_variant *g = gk_q8_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    gk_q8_force_variant(v);
    int before = passed + failed;
    test_q8(v);
    test_q8_winograd(v);
    printf("  %s (%dx%d): %d checks\n", g->name, g->mr, g->nr, passed + failed - before);
  }
  gk_q8_force_variant(-1);
  for (int v = 0; v < gk_elementwise_variant_count(); v++) {
    const gk_elementwise_variant *g = gk_elementwise_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    int before = passed + failed;
    test_elementwise(v);
    printf("  %s: %d checks\n", g->name, passed + failed - before);
  }
  for (int v = 0; v < gk_softmax_variant_count(); v++) {
    const gk_softmax_variant *g = gk_softmax_variant_at(v);
    if (!g->available) { printf("  %s: not available on this CPU\n", g->name); continue; }
    int before = passed + failed;
    test_softmax(v);
    gk_softmax_force_variant(v);
    test_attention();
    test_attention_double_backward();
    printf("  %s (and attention, its double backward through it): %d checks\n", g->name, passed + failed - before);
  }
  gk_softmax_force_variant(-1);
  int before = passed + failed;
  test_spectral_norm();
  printf("  spectral norm: %d checks\n", passed + failed - before);
  before = passed + failed;
  test_conditional();
  printf("  conditional BatchNorm, projection head: %d checks\n", passed + failed - before);
  before = passed + failed;
  test_sagan_passes();
  printf("  SAGAN passes and losses: %d checks\n", passed + failed - before);
  before = passed + failed;
  test_swd();
  printf("  swd (GEMM projections, radix sort): %d checks\n", passed + failed - before);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
