// int8 Winograd F(2x2, 2x2) (GK_Q8_DECONV4S2_WINOGRAD2, bitwise the direct output) against the direct
// int8 deconvolution on the DCGAN-64 layers G2-G4 at batch 1 and 64, alternating within each
// round, with a third column: the proxy measured before the kernel existed (its 36 GEMMs as int8
// dense layers, u8 widening and requantization standing in for the transforms).
// Build and run (from the repository root):
//   gcc -O2 -pthread -I Kernels/include benchmarks/winograd/q8-winograd-probe.c $(find Kernels -name '*.c') -lm \
//     -o /tmp/q8-winograd-probe && /tmp/q8-winograd-probe [threads] [rounds]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gan_kernels.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_run(const gk_q8_layer *layers, int count, void *ws, int threads, int repeats) {
  double t[64];
  gk_q8_run(layers, count, ws, threads);
  for (int r = 0; r < repeats; r++) {
    double a = now();
    gk_q8_run(layers, count, ws, threads);
    t[r] = now() - a;
  }
  qsort(t, repeats, sizeof t[0], cmp);
  return t[repeats / 2];
}

static void *fill(size_t bytes) {
  unsigned char *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
  for (size_t i = 0; i < bytes; i++) p[i] = (unsigned char)(i * 7919 % 251);
  return p;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, rounds = argc > 2 ? atoi(argv[2]) : 5, repeats = 9;
  printf("q8-winograd-probe: int8 variant %s, %d threads, %d rounds x median of %d\n",
         gk_q8_variant_at(gk_q8_selected_variant())->name, threads, rounds, repeats);
  if (!gk_q8_winograd_supported(4, 4, 512)) {
    printf("this int8 variant has no int16 x int16 product: the Winograd layer is not offered\n");
    return 0;
  }
  printf("| layer | batch | direct ms | Winograd F(2x2,2x2) ms | speedup | proxy ms | proxy speedup |\n"
         "|---|---|---|---|---|---|---|\n");
  static const int shapes[][4] = {{4, 4, 512, 256}, {8, 8, 256, 128}, {16, 16, 128, 64}};
  static const char *names[] = {"G2", "G3", "G4"};
  for (int b = 0; b < 2; b++) {
    int n = b == 0 ? 1 : 64;
    for (int s = 0; s < 3; s++) {
      int h = shapes[s][0], w = shapes[s][1], cin = shapes[s][2], cout = shapes[s][3];
      size_t tiles = (size_t)n * (h / 2) * (w / 2);
      float *mult = malloc(cout * 4), *bias = malloc(cout * 4);
      for (int c = 0; c < cout; c++) { mult[c] = 1e-4f; bias[c] = 0.5f; }
      gk_q8_layer direct;
      memset(&direct, 0, sizeof direct);
      direct.kind = GK_Q8_DECONV4S2; direct.n = n; direct.h = h; direct.w = w; direct.cin = cin; direct.cout = cout;
      direct.x_u8 = fill((size_t)n * h * w * cin);
      int8_t *wd = fill((size_t)cin * cout * 16);
      int8_t *pd = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, cin, cout));
      gk_q8_pack_deconv4s2_torch(cin, cout, wd, pd);
      direct.packed = pd; direct.mult = mult; direct.bias = bias; direct.out = GK_Q8_OUT_U8;
      direct.y_u8 = malloc((size_t)n * 4 * h * w * cout);
      gk_q8_layer wl = direct;
      wl.kind = GK_Q8_DECONV4S2_WINOGRAD2;
      int8_t *pw = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2_WINOGRAD2, cin, cout));
      gk_q8_pack_deconv4s2_winograd2_torch(cin, cout, wd, pw);
      wl.packed = pw;
      gk_q8_layer winograd[36];
      int8_t *wk = fill((size_t)cin * cout);
      int8_t *pk = malloc(gk_q8_packed_bytes(GK_Q8_DENSE, cin, cout));
      gk_q8_pack_dense(cin, cout, wk, pk);
      uint8_t *xv = fill(36 * tiles * cin), *ym = malloc(36 * tiles * cout);
      for (int l = 0; l < 36; l++) {
        memset(&winograd[l], 0, sizeof winograd[l]);
        winograd[l].kind = GK_Q8_DENSE; winograd[l].n = (int)tiles; winograd[l].h = 1; winograd[l].w = 1;
        winograd[l].cin = cin; winograd[l].cout = cout;
        winograd[l].x_u8 = xv + l * tiles * cin; winograd[l].packed = pk; winograd[l].mult = mult; winograd[l].bias = bias;
        winograd[l].out = GK_Q8_OUT_U8; winograd[l].y_u8 = ym + l * tiles * cout;
      }
      size_t wsb = gk_q8_workspace_bytes(&direct, 1, threads), wsw = gk_q8_workspace_bytes(winograd, 36, threads);
      size_t wsl = gk_q8_workspace_bytes(&wl, 1, threads);
      wsb = wsb > wsw ? wsb : wsw;
      wsb = wsb > wsl ? wsb : wsl;
      void *ws = aligned_alloc(64, (wsb + 63) / 64 * 64 + 64);
      double d[32], p[32], q[32];
      for (int r = 0; r < rounds; r++) {
        d[r] = median_run(&direct, 1, ws, threads, repeats);
        q[r] = median_run(&wl, 1, ws, threads, repeats);
        p[r] = median_run(winograd, 36, ws, threads, repeats);
      }
      qsort(d, rounds, sizeof d[0], cmp);
      qsort(p, rounds, sizeof p[0], cmp);
      qsort(q, rounds, sizeof q[0], cmp);
      double dm = d[rounds / 2], pm = p[rounds / 2], qm = q[rounds / 2];
      printf("| %s %dx%dx%d->%d | %d | %.3f | %.3f | %.2fx | %.3f | %.2fx |\n", names[s], h, w, cin, cout, n, dm * 1e3,
             qm * 1e3, dm / qm, pm * 1e3, dm / pm);
      fflush(stdout);
      free(mult); free(bias); free((void *)direct.x_u8); free(wd); free(pd); free(direct.y_u8); free(wk); free(pk); free(pw);
      free(xv); free(ym); free(ws);
    }
  }
  return 0;
}
