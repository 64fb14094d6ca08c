// Exact int8 Winograd F(2x2, 2x2) for ConvTranspose2d(4, 2, 1) (layer kind GK_Q8_DECONV4S2_WINOGRAD2),
// for int8 variants that multiply int16 x int16 (kgroup 2: AVX2 vpmaddwd, NEON smlal), that is
// machines without VNNI or sdot. Points {0, 1, inf}: B^T = [[1,-1,0],[0,1,0],[0,-1,1]],
// G = [[1,0],[1,1],[0,1]], A^T = [[1,1,0],[0,1,1]], all integral, so the int32 sums equal the
// direct ones exactly and the output is bitwise the direct kernel's.
// Ranges: codes in [0, 255] (or [-127, 127]) transform to |V| <= 510, int8 weights to
// |U| <= 508, both int16; a product is below 2^18 and the GEMM sums over cin stay inside int32
// for cin <= 2048 (and the integer transforms are exact modulo 2^32 in any case).
// Per phase (a, b) of the deconvolution, in blocks of tiles (2x2 phase outputs each): input
// transform of every 3x3 patch into V[9][tiles][Kp], 9 GEMMs V[xi] x U[xi] into M[9][tiles][Np]
// (int32), output transform A^T M A and the layer's fp32 epilogue per output pixel. A block stays
// in the thread's cache from the first step to the last (writing whole-layer V and M to memory
// and back made the layer slower than the direct kernel at batch 64).
#include "q8_internal.h"

static size_t kpad2(int cin) { return ((size_t)cin + 1) & ~(size_t)1; }
static size_t panels_of(const gk_q8_variant *v, int cout) { return ((size_t)cout + (size_t)v->nr - 1) / (size_t)v->nr; }
static size_t tiles_of(const gk_q8_layer *l) { return (size_t)l->n * (size_t)(l->h / 2) * (size_t)(l->w / 2); }

int gk_q8_winograd_supported(int h, int w, int cin) {
  const gk_q8_variant *v = gk_config()->q8;
  return v->ukernel_w16 != NULL && h % 2 == 0 && w % 2 == 0 && cin <= 2048;
}

size_t gk_q8_winograd2_packed_bytes(int cin, int cout) {
  const gk_q8_variant *v = gk_config()->q8;
  return 4 * 9 * panels_of(v, cout) * kpad2(cin) * (size_t)v->nr * sizeof(int16_t);
}

void gk_q8_pack_deconv4s2_winograd2_torch(int cin, int cout, const int8_t *torch_wgt, int8_t *packed_bytes) {
  // torch_wgt: (cin, cout, 4, 4). Per phase and xi, a Kp x N matrix of U = G g G^T in panels of
  // NR columns, row pairs interleaved as [K/2][NR][2] (the kgroup-2 layout, in int16).
  const gk_q8_variant *v = gk_config()->q8;
  int16_t *packed = (int16_t *)packed_bytes;
  size_t nr = (size_t)v->nr, kp = kpad2(cin), panels = panels_of(v, cout);
  for (int phase = 0; phase < 4; phase++) {
    int a = phase >> 1, b = phase & 1;
    int ky[2], kx[2];
    for (int t = 0; t < 2; t++) {
      ky[t] = 1 + a - 2 * (a - 1 + t);
      kx[t] = 1 + b - 2 * (b - 1 + t);
    }
    for (int xi = 0; xi < 9; xi++) {
      int16_t *m = packed + ((size_t)phase * 9 + xi) * panels * kp * nr;
      int ui = xi / 3, uj = xi % 3;
      for (size_t p = 0; p < panels; p++)
        for (size_t k = 0; k < kp; k++)
          for (size_t j = 0; j < nr; j++) {
            size_t co = p * nr + j;
            int16_t u = 0;
            if (k < (size_t)cin && co < (size_t)cout) {
              // g[ty][tx] = W[ci][co][ky[ty]][kx[tx]]; G's rows: {g0}, {g0 + g1}, {g1}.
              const int8_t *w = torch_wgt + ((size_t)k * cout + co) * 16;
              int r[2];
              for (int tx = 0; tx < 2; tx++) {
                int g0 = w[ky[0] * 4 + kx[tx]], g1 = w[ky[1] * 4 + kx[tx]];
                r[tx] = ui == 0 ? g0 : (ui == 1 ? g0 + g1 : g1);
              }
              u = (int16_t)(uj == 0 ? r[0] : (uj == 1 ? r[0] + r[1] : r[1]));
            }
            m[p * kp * nr + (k / 2 * nr + j) * 2 + (k & 1)] = u;
          }
    }
  }
}

// Tiles per block: a block's transformed inputs (9 x TB x Kp int16) and GEMM outputs stay in the
// thread's cache between the input transform, the GEMMs and the output transform.
static size_t block_tiles(const gk_q8_variant *v, const gk_q8_layer *l) {
  size_t mr = (size_t)v->mr, tb = (192 * 1024) / (9 * kpad2(l->cin) * sizeof(int16_t));
  tb = tb > 16 * mr ? 16 * mr : tb;
  tb = tb / mr * mr;
  return tb < mr ? mr : tb;
}

size_t gk_q8_winograd2_thread_bytes(const gk_q8_variant *v, const gk_q8_layer *l) {
  // A 3x3 patch of int16 codes, V and M of one block, and 4 output pixels of int32 sums.
  size_t kp = kpad2(l->cin), np = panels_of(v, l->cout) * (size_t)v->nr, tb = block_tiles(v, l);
  return (9 * kp * sizeof(int16_t) + 63) / 64 * 64 + (9 * tb * kp * sizeof(int16_t) + 63) / 64 * 64 +
         (9 * tb * np * sizeof(int32_t) + 63) / 64 * 64 + 4 * np * sizeof(int32_t) + 128;
}

size_t gk_q8_winograd2_shared_bytes(const gk_q8_variant *v, const gk_q8_layer *l) {
  (void)v; (void)l;
  return 0;
}

// V[9][tb][Kp] = B^T d B for the tiles [t0, t0 + tb) of phase (a, b): patch rows 2 ti + a - 1 + r,
// columns 2 tj + b - 1 + q (the zero point outside the image).
static void input_transform(const gk_q8_variant *v, const gk_q8_layer *l, int a, int b, size_t t0, size_t tb,
                            int16_t *patch, int16_t *vblk) {
  size_t kp = kpad2(l->cin), c = (size_t)l->cin;
  int th = l->h / 2, tw = l->w / 2;
  for (size_t tt = 0; tt < tb; tt++) {
    size_t t = t0 + tt;
    int img = (int)(t / ((size_t)th * tw)), rem = (int)(t % ((size_t)th * tw)), ti = rem / tw, tj = rem % tw;
    for (int e = 0; e < 9; e++) {
      int iy = 2 * ti + a - 1 + e / 3, ix = 2 * tj + b - 1 + e % 3;
      int16_t *d = patch + (size_t)e * kp;
      if (iy < 0 || iy >= l->h || ix < 0 || ix >= l->w) {
        memset(d, 0, kp * sizeof(int16_t));
      } else {
        gk_q8_convert_run(v, l, (((size_t)img * l->h + iy) * l->w + ix) * c, c, d);
        if (kp > c) d[c] = 0;
      }
    }
    const int16_t *restrict d0 = patch, *restrict d1 = patch + kp, *restrict d2 = patch + 2 * kp,
                            *restrict d3 = patch + 3 * kp, *restrict d4 = patch + 4 * kp, *restrict d5 = patch + 5 * kp,
                            *restrict d6 = patch + 6 * kp, *restrict d7 = patch + 7 * kp, *restrict d8 = patch + 8 * kp;
    size_t es = tb * kp;
    int16_t *restrict o0 = vblk + tt * kp, *restrict o1 = o0 + es, *restrict o2 = o1 + es, *restrict o3 = o2 + es,
                      *restrict o4 = o3 + es, *restrict o5 = o4 + es, *restrict o6 = o5 + es, *restrict o7 = o6 + es,
                      *restrict o8 = o7 + es;
    for (size_t k = 0; k < kp; k++) {
      // S = d B along each patch row, then V = B^T S down the columns.
      int16_t r00 = d0[k] - d1[k], r01 = d1[k], r02 = d2[k] - d1[k];
      int16_t r10 = d3[k] - d4[k], r11 = d4[k], r12 = d5[k] - d4[k];
      int16_t r20 = d6[k] - d7[k], r21 = d7[k], r22 = d8[k] - d7[k];
      o0[k] = r00 - r10; o1[k] = r01 - r11; o2[k] = r02 - r12;
      o3[k] = r10;       o4[k] = r11;       o5[k] = r12;
      o6[k] = r20 - r10; o7[k] = r21 - r11; o8[k] = r22 - r12;
    }
  }
}

// M[xi][tb][Np] = V[xi] x U[xi] for the block, every panel.
static void block_gemms(const gk_q8_variant *v, const gk_q8_layer *l, int phase, size_t tb, const int16_t *vblk,
                        int32_t *mblk) {
  size_t kp = kpad2(l->cin), nr = (size_t)v->nr, mr = (size_t)v->mr, panels = panels_of(v, l->cout), np = panels * nr;
  const int16_t *w = (const int16_t *)l->packed + (size_t)phase * 9 * panels * kp * nr;
  const void *a_rows[GK_Q8_MR_MAX];
  int32_t acc[GK_Q8_MR_MAX * GK_Q8_NR_MAX] __attribute__((aligned(64)));
  for (size_t xi = 0; xi < 9; xi++) {
    const int16_t *a = vblk + xi * tb * kp;
    for (size_t p = 0; p < panels; p++) {
      const int16_t *panel = w + (xi * panels + p) * kp * nr;
      int32_t *m = mblk + xi * tb * np + p * nr;
      for (size_t s = 0; s < tb; s += mr) {
        size_t valid = tb - s < mr ? tb - s : mr;
        for (size_t i = 0; i < mr; i++) a_rows[i] = a + (i < valid ? s + i : tb - 1) * kp;
        v->ukernel_w16(kp / 2, a_rows, panel, acc);
        for (size_t i = 0; i < valid; i++) memcpy(m + (s + i) * np, acc + i * nr, nr * sizeof(int32_t));
      }
    }
  }
}

// Y = A^T M A for the block and the epilogue into output pixels (2 (2 ti + p) + a, 2 (2 tj + q) + b).
static void output_transform(const gk_q8_variant *v, const gk_q8_layer *l, int a, int b, size_t t0, size_t tb,
                             const int32_t *mblk, int32_t *y) {
  size_t np = panels_of(v, l->cout) * (size_t)v->nr, co = (size_t)l->cout, es = tb * np;
  int th = l->h / 2, tw = l->w / 2;
  for (size_t tt = 0; tt < tb; tt++) {
    size_t t = t0 + tt;
    int img = (int)(t / ((size_t)th * tw)), rem = (int)(t % ((size_t)th * tw)), ti = rem / tw, tj = rem % tw;
    // Unsigned: the sums are exact modulo 2^32, and the final values fit int32.
    const uint32_t *restrict m0 = (const uint32_t *)mblk + tt * np, *restrict m1 = m0 + es, *restrict m2 = m1 + es,
                             *restrict m3 = m2 + es, *restrict m4 = m3 + es, *restrict m5 = m4 + es,
                             *restrict m6 = m5 + es, *restrict m7 = m6 + es, *restrict m8 = m7 + es;
    uint32_t *restrict y00 = (uint32_t *)y, *restrict y01 = y00 + np, *restrict y10 = y01 + np, *restrict y11 = y10 + np;
    for (size_t c = 0; c < co; c++) {
      uint32_t s0 = m0[c] + m3[c], s1 = m1[c] + m4[c], s2 = m2[c] + m5[c];
      uint32_t u0 = m3[c] + m6[c], u1 = m4[c] + m7[c], u2 = m5[c] + m8[c];
      y00[c] = s0 + s1; y01[c] = s1 + s2;
      y10[c] = u0 + u1; y11[c] = u1 + u2;
    }
    for (int pq = 0; pq < 4; pq++) {
      int oy = 2 * (2 * ti + (pq >> 1)) + a, ox = 2 * (2 * tj + (pq & 1)) + b;
      size_t off = (((size_t)img * 2 * l->h + oy) * 2 * l->w + ox) * co;
      gk_q8_epilogue_row(v, l, 0, co, y + (size_t)pq * np, off);
    }
  }
}

void gk_q8_winograd2_run_layer(const gk_q8_variant *v, const gk_q8_layer *l, int tid, int nth, char *thread_ws,
                           char *shared) {
  // Blocks of tiles (all four phases) split over threads; each block runs start to end in the
  // thread's workspace, so the layer needs no barrier of its own.
  (void)shared;
  size_t tiles = tiles_of(l), kp = kpad2(l->cin), np = panels_of(v, l->cout) * (size_t)v->nr;
  size_t tbmax = block_tiles(v, l), per_phase = (tiles + tbmax - 1) / tbmax, blocks = 4 * per_phase;
  int16_t *patch = (int16_t *)(((uintptr_t)thread_ws + 63) & ~(uintptr_t)63);
  int16_t *vblk = (int16_t *)(((uintptr_t)(patch + 9 * kp) + 63) & ~(uintptr_t)63);
  int32_t *mblk = (int32_t *)(((uintptr_t)(vblk + 9 * tbmax * kp) + 63) & ~(uintptr_t)63);
  int32_t *y = (int32_t *)(((uintptr_t)(mblk + 9 * tbmax * np) + 63) & ~(uintptr_t)63);
  size_t b0 = blocks * (size_t)tid / (size_t)nth, b1 = blocks * (size_t)(tid + 1) / (size_t)nth;
  for (size_t blk = b0; blk < b1; blk++) {
    int phase = (int)(blk / per_phase), a = phase >> 1, b = phase & 1;
    size_t t0 = (blk % per_phase) * tbmax, tb = tiles - t0 < tbmax ? tiles - t0 : tbmax;
    input_transform(v, l, a, b, t0, tb, patch, vblk);
    block_gemms(v, l, phase, tb, vblk, mblk);
    output_transform(v, l, a, b, t0, tb, mblk, y);
  }
}
