// int8 layers and the int8 Winograd layer against their references, bit for bit.
#include "driver.h"

// int8 layers: gk_q8_run (1 and 2 threads, alone and chained) against gk_q8_layer_ref, bit for bit,
// over odd channel counts, borders, partial tiles and every input and output mode.
static int8_t *q8rand(size_t n) {
  int8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)lrintf(urand() * 127.0f);
  return p;
}
static uint8_t *u8rand(size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)lrintf((urand() + 1.0f) * 127.5f);
  return p;
}

static void q8_case(const char *name, gk_q8_layer l, const int8_t *w_ref, size_t ys) {
  const char *outs[] = {"u8", "f32+relu", "f32+tanh", "f32"};
  char what[200];
  snprintf(what, sizeof what, "%s %s (%d,%d,%d,%d,%d) in %s%s -> %s", name,
           l.kind == GK_Q8_DENSE ? "dense" : (l.kind == GK_Q8_DECONV4S2 ? "deconv" : "winograd deconv"), l.n, l.h, l.w, l.cin, l.cout,
           l.x_u8 ? "u8" : "f32", l.x_signed ? " signed" : "", outs[l.out]);
  size_t bytes = l.out == GK_Q8_OUT_U8 ? ys : ys * 4;
  void *ref = calloc(bytes, 1), *got = calloc(bytes, 1);
  uint8_t *pix_ref = calloc(ys, 1), *pix_got = calloc(ys, 1);
  gk_q8_layer r = l;
  if (l.out == GK_Q8_OUT_U8) r.y_u8 = ref; else r.y_f32 = ref;
  if (l.out == GK_Q8_OUT_F32_TANH) r.pixels = pix_ref;
  gk_q8_layer_ref(&r, w_ref);
  for (int threads = 1; threads <= 2; threads++) {
    gk_q8_layer g = r;
    if (l.out == GK_Q8_OUT_U8) g.y_u8 = got; else g.y_f32 = got;
    if (l.out == GK_Q8_OUT_F32_TANH) g.pixels = pix_got;
    memset(got, 0xEE, bytes);
    void *ws = workspace(gk_q8_workspace_bytes(&g, 1, threads));
    gk_q8_run(&g, 1, ws, threads);
    free(ws);
    char t[300];
    snprintf(t, sizeof t, "%s, %d thread(s): bitwise equal to the reference", what, threads);
    check(!memcmp(got, ref, bytes) && !memcmp(pix_got, pix_ref, ys), t);
  }
  free(ref); free(got); free(pix_ref); free(pix_got);
}

void test_q8(int variant) {
  const char *name = gk_q8_variant_at(variant)->name;
  static const int deconv[][5] = {{1, 1, 1, 1, 1}, {2, 3, 5, 7, 3}, {1, 4, 4, 8, 16}, {3, 2, 6, 17, 21},
                                  {2, 4, 4, 64, 40}, {1, 8, 8, 32, 3}, {1, 4, 4, 128, 64},
                                  {2, 5, 3, 20, 4}, {1, 16, 16, 64, 3}, {3, 2, 2, 33, 2}};
  for (int s = 0; s < 10; s++) {
    int n = deconv[s][0], h = deconv[s][1], w = deconv[s][2], ci = deconv[s][3], co = deconv[s][4];
    size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * 4 * h * w * co;
    int8_t *wt = q8rand(16 * (size_t)ci * co);
    int8_t *packed = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, ci, co));
    gk_q8_pack_deconv4s2_torch(ci, co, wt, packed);
    uint8_t *xu = u8rand(xs);
    float *xf = frand(xs), *mult = malloc(co * 4), *bias = frand(co);
    for (int c = 0; c < co; c++) { mult[c] = (0.6f + 0.1f * (c % 5)) * 255.0f / (sqrtf(4.0f * ci) * 9000.0f); bias[c] *= 40.0f; }
    for (int out = 0; out <= GK_Q8_OUT_F32; out++) {
      gk_q8_layer l = {GK_Q8_DECONV4S2, n, h, w, ci, co, xu, NULL, 0, 0, packed, mult, bias, out, NULL, NULL, NULL};
      q8_case(name, l, wt, ys);
      l.x_u8 = NULL; l.x_f32 = xf; l.x_inv_scale = 300.0f;  // clamps at both ends
      q8_case(name, l, wt, ys);
    }
    free(wt); free(packed); free(xu); free(xf); free(mult); free(bias);
  }
  static const int dense[][3] = {{1, 1, 1}, {1, 100, 8192}, {3, 7, 17}, {7, 101, 48}, {64, 100, 33}};
  for (int s = 0; s < 5; s++) {
    int n = dense[s][0], ki = dense[s][1], ko = dense[s][2];
    int8_t *wt = q8rand((size_t)ki * ko);
    int8_t *packed = malloc(gk_q8_packed_bytes(GK_Q8_DENSE, ki, ko));
    gk_q8_pack_dense(ki, ko, wt, packed);
    float *xf = frand((size_t)n * ki), *mult = malloc(ko * 4), *bias = frand(ko);
    uint8_t *xu = u8rand((size_t)n * ki);
    for (int c = 0; c < ko; c++) { mult[c] = 255.0f / (sqrtf((float)ki) * 4000.0f); bias[c] *= 40.0f; }
    gk_q8_layer l = {GK_Q8_DENSE, n, 1, 1, ki, ko, NULL, xf, 60.0f, 1, packed, mult, bias, GK_Q8_OUT_U8, NULL, NULL, NULL};
    q8_case(name, l, wt, (size_t)n * ko);
    l.x_f32 = NULL; l.x_u8 = xu; l.x_signed = 0; l.out = GK_Q8_OUT_F32_RELU;
    q8_case(name, l, wt, (size_t)n * ko);
    l.out = GK_Q8_OUT_F32;
    q8_case(name, l, wt, (size_t)n * ko);
    free(wt); free(packed); free(xf); free(mult); free(bias); free(xu);
  }
  // The projection packer against its definition: column (ky * 4 + kx) * c + ch of row k is
  // torch[k][ch][ky][kx].
  {
    int nz = 5, c = 3;
    int8_t *torch = q8rand((size_t)nz * c * 16), *dense_w = malloc((size_t)nz * c * 16);
    for (int k = 0; k < nz; k++)
      for (int p = 0; p < 16; p++)
        for (int ch = 0; ch < c; ch++) dense_w[(size_t)k * 16 * c + p * c + ch] = torch[((size_t)k * c + ch) * 16 + p];
    size_t bytes = gk_q8_packed_bytes(GK_Q8_DENSE, nz, 16 * c);
    int8_t *p1 = malloc(bytes), *p2 = malloc(bytes);
    gk_q8_pack_projection_torch(nz, c, torch, p1);
    gk_q8_pack_dense(nz, 16 * c, dense_w, p2);
    char what[120];
    snprintf(what, sizeof what, "%s projection packing = dense packing of the converted matrix", name);
    check(!memcmp(p1, p2, bytes), what);
    free(torch); free(dense_w); free(p1); free(p2);
  }
  // A chain in one call (dense -> deconv -> deconv), as a generator runs: equal to the layers
  // run one by one through the reference.
  {
    int n = 2, nz = 10, c0 = 24, c1 = 12, c2 = 3;
    int8_t *w0 = q8rand((size_t)nz * 16 * c0), *w1 = q8rand(16 * (size_t)c0 * c1), *w2 = q8rand(16 * (size_t)c1 * c2);
    int8_t *p0 = malloc(gk_q8_packed_bytes(GK_Q8_DENSE, nz, 16 * c0));
    int8_t *p1 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, c0, c1)), *p2 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2,
        c1, c2));
    gk_q8_pack_dense(nz, 16 * c0, w0, p0);
    gk_q8_pack_deconv4s2_torch(c0, c1, w1, p1);
    gk_q8_pack_deconv4s2_torch(c1, c2, w2, p2);
    float *z = frand((size_t)n * nz), *m0 = malloc(16 * c0 * 4), *b0 = frand(16 * c0), *m1 = malloc(c1 * 4), *b1 = frand(c1);
    float *m2 = malloc(c2 * 4), *b2 = frand(c2);
    for (int i = 0; i < 16 * c0; i++) m0[i] = 0.05f;
    for (int i = 0; i < c1; i++) m1[i] = 0.02f;
    for (int i = 0; i < c2; i++) m2[i] = 1e-4f;
    size_t s0 = (size_t)n * 16 * c0, s1 = (size_t)n * 64 * c1, s2 = (size_t)n * 256 * c2;
    uint8_t *a0 = calloc(s0, 1), *a1 = calloc(s1, 1), *r0 = calloc(s0, 1), *r1 = calloc(s1, 1);
    float *y = calloc(s2, 4), *yr = calloc(s2, 4);
    gk_q8_layer L[3] = {
        {GK_Q8_DENSE, n, 1, 1, nz, 16 * c0, NULL, z, 40.0f, 1, p0, m0, b0, GK_Q8_OUT_U8, a0, NULL, NULL},
        {GK_Q8_DECONV4S2, n, 4, 4, c0, c1, a0, NULL, 0, 0, p1, m1, b1, GK_Q8_OUT_U8, a1, NULL, NULL},
        {GK_Q8_DECONV4S2, n, 8, 8, c1, c2, a1, NULL, 0, 0, p2, m2, b2, GK_Q8_OUT_F32_TANH, NULL, y, NULL}};
    gk_q8_layer R[3] = {L[0], L[1], L[2]};
    R[0].y_u8 = r0; R[1].x_u8 = r0; R[1].y_u8 = r1; R[2].x_u8 = r1; R[2].y_f32 = yr;
    int8_t *w0_dense = malloc((size_t)nz * 16 * c0);
    memcpy(w0_dense, w0, (size_t)nz * 16 * c0);
    gk_q8_layer_ref(&R[0], w0_dense); gk_q8_layer_ref(&R[1], w1); gk_q8_layer_ref(&R[2], w2);
    void *ws = workspace(gk_q8_workspace_bytes(L, 3, 2));
    gk_q8_run(L, 3, ws, 2);
    char what[120];
    snprintf(what, sizeof what, "%s three-layer chain, 2 threads: bitwise equal to the reference", name);
    int spread = 0;
    for (size_t i = 1; i < s1; i++) spread |= r1[i] != r1[0];
    check(spread && !memcmp(a0, r0, s0) && !memcmp(a1, r1, s1) && !memcmp(y, yr, s2 * 4), what);
    free(ws); free(w0); free(w1); free(w2); free(p0); free(p1); free(p2); free(z); free(m0); free(b0);
    free(m1); free(b1); free(m2); free(b2); free(a0); free(a1); free(r0); free(r1); free(y); free(yr); free(w0_dense);
  }
}

// The exact int8 Winograd F(2x2, 2x2) layer: bitwise the reference (and so the direct kernel) over
// borders, odd channel counts, every input and output mode, alone and inside a chain; refused
// where the variant has no int16 x int16 product.
void test_q8_winograd(int variant) {
  const gk_q8_variant *v = gk_q8_variant_at(variant);
  char what[200];
  snprintf(what, sizeof what, "%s winograd supported iff the variant multiplies int16 x int16", v->name);
  check(gk_q8_winograd_supported(4, 4, 64) == (v->ukernel_w16 != NULL) && !gk_q8_winograd_supported(3, 4, 64) &&
            !gk_q8_winograd_supported(4, 4, 4096),
        what);
  if (!v->ukernel_w16) return;
  static const int shapes[][5] = {{1, 2, 2, 1, 1}, {2, 4, 6, 7, 3}, {1, 4, 4, 8, 16}, {3, 2, 6, 17, 21},
                                  {2, 4, 4, 64, 40}, {1, 8, 8, 33, 5}, {1, 4, 4, 128, 64}, {2, 6, 2, 20, 17}};
  for (int s = 0; s < 8; s++) {
    int n = shapes[s][0], h = shapes[s][1], w = shapes[s][2], ci = shapes[s][3], co = shapes[s][4];
    size_t xs = (size_t)n * h * w * ci, ys = (size_t)n * 4 * h * w * co;
    int8_t *wt = q8rand(16 * (size_t)ci * co);
    // Weights at the ends of the range too: the transforms reach +-4 * 127.
    for (int c = 0; c < ci && c < 3; c++)
      for (size_t k = 0; k < 16 * (size_t)co; k++) wt[(size_t)c * 16 * co + k] = (c & 1) ? -127 : 127;
    int8_t *packed = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2_WINOGRAD2, ci, co));
    gk_q8_pack_deconv4s2_winograd2_torch(ci, co, wt, packed);
    uint8_t *xu = u8rand(xs);
    for (size_t i = 0; i < xs && i < 2 * (size_t)ci; i++) xu[i] = (i & 1) ? 0 : 255;
    float *xf = frand(xs), *mult = malloc(co * 4), *bias = frand(co);
    for (int c = 0; c < co; c++) { mult[c] = (0.6f + 0.1f * (c % 5)) * 255.0f / (sqrtf(4.0f * ci) * 9000.0f); bias[c] *= 40.0f; }
    for (int out = 0; out <= GK_Q8_OUT_F32; out++) {
      gk_q8_layer l = {GK_Q8_DECONV4S2_WINOGRAD2, n, h, w, ci, co, xu, NULL, 0, 0, packed, mult, bias, out, NULL, NULL, NULL};
      q8_case(v->name, l, wt, ys);
      l.x_u8 = NULL; l.x_f32 = xf; l.x_inv_scale = 300.0f;
      l.x_signed = out == 1;  // signed codes in [-127, 127] as well
      q8_case(v->name, l, wt, ys);
    }
    free(wt); free(packed); free(xu); free(xf); free(mult); free(bias);
  }
  // Between two direct layers in one call (its barriers and shared workspace inside the region).
  {
    int n = 2, c0 = 24, c1 = 20, c2 = 12, c3 = 3;
    int8_t *w1 = q8rand(16 * (size_t)c0 * c1), *w2 = q8rand(16 * (size_t)c1 * c2), *w3 = q8rand(16 * (size_t)c2 * c3);
    int8_t *p1 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, c0, c1));
    int8_t *p2 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2_WINOGRAD2, c1, c2));
    int8_t *p3 = malloc(gk_q8_packed_bytes(GK_Q8_DECONV4S2, c2, c3));
    gk_q8_pack_deconv4s2_torch(c0, c1, w1, p1);
    gk_q8_pack_deconv4s2_winograd2_torch(c1, c2, w2, p2);
    gk_q8_pack_deconv4s2_torch(c2, c3, w3, p3);
    uint8_t *x = u8rand((size_t)n * 4 * 4 * c0);
    float *m1 = malloc(c1 * 4), *b1 = frand(c1), *m2 = malloc(c2 * 4), *b2 = frand(c2), *m3 = malloc(c3 * 4), *b3 = frand(c3);
    for (int i = 0; i < c1; i++) m1[i] = 0.004f;
    for (int i = 0; i < c2; i++) m2[i] = 0.003f;
    for (int i = 0; i < c3; i++) m3[i] = 1e-4f;
    size_t s1 = (size_t)n * 64 * c1, s2 = (size_t)n * 256 * c2, s3 = (size_t)n * 1024 * c3;
    uint8_t *a1 = calloc(s1, 1), *a2 = calloc(s2, 1), *r1 = calloc(s1, 1), *r2 = calloc(s2, 1);
    float *y = calloc(s3, 4), *yr = calloc(s3, 4);
    gk_q8_layer L[3] = {
        {GK_Q8_DECONV4S2, n, 4, 4, c0, c1, x, NULL, 0, 0, p1, m1, b1, GK_Q8_OUT_U8, a1, NULL, NULL},
        {GK_Q8_DECONV4S2_WINOGRAD2, n, 8, 8, c1, c2, a1, NULL, 0, 0, p2, m2, b2, GK_Q8_OUT_U8, a2, NULL, NULL},
        {GK_Q8_DECONV4S2, n, 16, 16, c2, c3, a2, NULL, 0, 0, p3, m3, b3, GK_Q8_OUT_F32_TANH, NULL, y, NULL}};
    gk_q8_layer R[3] = {L[0], L[1], L[2]};
    R[0].y_u8 = r1; R[1].x_u8 = r1; R[1].y_u8 = r2; R[2].x_u8 = r2; R[2].y_f32 = yr;
    gk_q8_layer_ref(&R[0], w1); gk_q8_layer_ref(&R[1], w2); gk_q8_layer_ref(&R[2], w3);
    for (int threads = 1; threads <= 2; threads++) {
      memset(a2, 0, s2);
      void *ws = workspace(gk_q8_workspace_bytes(L, 3, threads));
      gk_q8_run(L, 3, ws, threads);
      free(ws);
      int spread = 0;
      for (size_t i = 1; i < s2; i++) spread |= r2[i] != r2[0];
      snprintf(what, sizeof what, "%s chain with a winograd layer, %d thread(s): bitwise equal to the reference",
               v->name,
               threads);
      check(spread && !memcmp(a1, r1, s1) && !memcmp(a2, r2, s2) && !memcmp(y, yr, s3 * 4), what);
    }
    free(w1); free(w2); free(w3); free(p1); free(p2); free(p3); free(x); free(m1); free(b1); free(m2); free(b2);
    free(m3); free(b3); free(a1); free(a2); free(r1); free(r2); free(y); free(yr);
  }
}
