// CGanKernels: the math of swift-gan. No allocation, no I/O, no globals but the variant table.
//
// Conventions
// - Activations are NHWC float32: (n, h, w, c), channels innermost.
// - 4x4 convolution weights are stored "KKIO": (ky, kx, cin, cout), where cin is the input of the
//   layer's forward pass (for ConvTranspose2d the PyTorch layout is (cin, cout, ky, kx); for Conv2d
//   (cout, cin, ky, kx); GanModel converts on load and save).
// - Dense layers (the generator's 1x1 -> 4x4 ConvTranspose2d(4, 1, 0) and the discriminator's final
//   Conv2d(4, 1, 0)) are y = x * W with W row-major (k, n).
// - Every threaded kernel takes `threads` (OpenMP) and splits work over outputs only, so results do
//   not depend on the thread count. Kernels that need scratch take `workspace` sized by the matching
//   *_workspace_bytes function; it must be 64-byte aligned.
// - Every optimized kernel has a scalar *_ref with the same contract: the test oracle and fallback.
#ifndef GAN_KERNELS_H
#define GAN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Operand descriptors

/// Maps a row index r to an element offset:
///   g = r / group;  offset(r) = tab[g % ntab] + (g / ntab) * outer + (r % group) * inner.
/// A plain row-major matrix with leading dimension ld is {group = SIZE_MAX, inner = ld, ntab = 1,
/// tab = {0}}. Phase outputs of a stride-2 transposed convolution and tap-major weight slices are
/// also rowmaps.
typedef struct gk_rowmap {
  size_t group;
  size_t inner;
  size_t outer;
  int ntab;
  size_t tab[16];
} gk_rowmap;

/// A convolution window over an NHWC image batch (h, w, c per image), seen as an im2col matrix:
/// row m = (img * oh + i) * ow + j, column k = t * c + ci, element = x[img, s*i + dy[t], s*j + dx[t], ci]
/// or 0 outside the image. Up to 16 taps.
typedef struct gk_window {
  int h, w, c;
  int oh, ow;
  int stride;
  int ntaps;
  int dy[16];
  int dx[16];
} gk_window;

enum {
  GK_OPERAND_MATRIX = 0,    ///< element(r, c) = data[rowmap(r) + c * col_stride]
  GK_OPERAND_WINDOW = 1,    ///< element(r, c) = im2col(win)[r][c]
  GK_OPERAND_WINDOW_T = 2,  ///< element(r, c) = im2col(win)[c][r] (transposed window)
  GK_OPERAND_PACKED = 3,    ///< a B operand already in micro-kernel panels (gk_f32_gemm_pack_b)
};

typedef struct gk_operand {
  int kind;
  const float *data;
  gk_rowmap rows;     // MATRIX only
  size_t col_stride;  // MATRIX only
  gk_window win;      // WINDOW, WINDOW_T
  size_t packed_k, packed_n;  // PACKED: the matrix's shape
  int packed_nr;              // PACKED: panel width it was packed for
} gk_operand;

/// Output rows go through a rowmap; columns are contiguous.
typedef struct gk_output {
  float *data;
  gk_rowmap rows;
} gk_output;

enum { GK_ACT_NONE = 0, GK_ACT_RELU = 1, GK_ACT_LRELU = 2, GK_ACT_TANH = 3 };

/// What happens to each C element after the K reduction, in this order:
/// (accumulate ? C_old : 0) + sum, + bias[col], activation; then the stored value is added to
/// col_sum[col] and its square to col_sumsq[col] (per-column statistics for BatchNorm; the sums are
/// added to what the arrays hold, reduced in a fixed order, so they are thread-count independent).
/// With u8 set, round(clamp((v + 1) * 127.5, 0, 255)) also goes to u8 at the element's offset
/// (the output's rowmap applied to bytes): the generator's last layer writes pixels directly.
typedef struct gk_epilogue {
  int accumulate;
  const float *bias;   // [n] or NULL
  int act;             // GK_ACT_*
  float slope;         // LeakyReLU negative slope
  double *col_sum;     // [n] or NULL
  double *col_sumsq;   // [n] or NULL (needs col_sum)
  uint8_t *u8;         // NULL, or pixels laid out like C
} gk_epilogue;

// MARK: - CPU features and variants (chosen once at start-up)

/// CPU features a variant needs (gk_kernel_config.features: what the probe found).
enum { GK_CPU_AVX2_FMA = 1, GK_CPU_AVX512F = 2, GK_CPU_AVX512VNNI = 4, GK_CPU_ASIMD = 8, GK_CPU_ASIMDDP = 16 };

// Every variant struct starts with: name, the features it requires, and `available` (filled by
// the probe: this CPU has them).
typedef struct gk_gemm_variant {
  const char *name;
  unsigned requires;
  int available;
  int mr, nr;
  /// c_rows[MR] point at MR output rows of NR floats each. accumulate != 0: add to what they hold.
  void (*ukernel)(size_t kc, const float *a_packed, const float *b_packed, float *const *c_rows,
                  int accumulate);
} gk_gemm_variant;

/// All compiled GEMM variants (index 0 is the scalar reference micro-kernel).
int gk_gemm_variant_count(void);
const gk_gemm_variant *gk_gemm_variant_at(int index);
/// The variant gk_f32_gemm uses: the best available one, or the one forced with
/// gk_gemm_force_variant (tests and benchmarks only; -1 restores the automatic choice).
int gk_gemm_selected_variant(void);
void gk_gemm_force_variant(int index);
/// "avx512f avx2 fma ..." as probed at start-up.
const char *gk_cpu_features(void);

// MARK: - f32 GEMM:  C[m x n] (epilogue)= A[m x k] * B[k x n]

size_t gk_f32_gemm_workspace_bytes(size_t m, size_t n, size_t k, int threads);
void gk_f32_gemm(size_t m, size_t n, size_t k, const gk_operand *a, const gk_operand *b,
                 const gk_output *c, const gk_epilogue *ep, void *workspace, int threads);
void gk_f32_gemm_ref(size_t m, size_t n, size_t k, const gk_operand *a, const gk_operand *b,
                     const gk_output *c, const gk_epilogue *ep);

/// Weights packed once (inference plans): B (k x n) in the selected variant's panel layout, read
/// in place by gk_f32_gemm instead of being packed on every call. Layout: for each KC block of k,
/// for each NR-wide panel of n, kc x NR floats (zero-padded past n).
size_t gk_f32_gemm_packed_b_floats(size_t k, size_t n);
gk_operand gk_f32_gemm_pack_b(const gk_operand *b, size_t k, size_t n, float *packed);
/// As gk_f32_gemm_pack_b, multiplying column j by col_scale[j] (BatchNorm folding at load).
gk_operand gk_f32_gemm_pack_b_scaled(const gk_operand *b, size_t k, size_t n,
                                     const float *col_scale, float *packed);

/// Descriptor helpers.
gk_rowmap gk_rowmap_dense(size_t ld);
gk_operand gk_operand_matrix(const float *data, size_t ld);            // row-major, ld >= cols
gk_operand gk_operand_matrix_t(const float *data, size_t ld);          // transpose of row-major
gk_output gk_output_dense(float *data, size_t ld);
float gk_operand_at(const gk_operand *op, size_t r, size_t c);

// MARK: - Layer kernels (all share gk_f32_gemm; workspace from *_workspace_bytes)

/// ConvTranspose2d(4, stride 2, pad 1): x (n, h, w, cin) -> y (n, 2h, 2w, cout), weights KKIO.
/// Four 2x2 phase convolutions; epilogue per output element (bias[cout], act, statistics).
size_t gk_f32_deconv4s2_workspace_bytes(int n, int h, int w, int cin, int cout, int threads);
void gk_f32_deconv4s2_forward(int n, int h, int w, int cin, int cout, const float *x,
                              const float *wgt, const gk_epilogue *ep, float *y, void *workspace,
                              int threads);
/// dx (n, h, w, cin) = d/dx of the forward, given dy (n, 2h, 2w, cout). Overwrites dx.
void gk_f32_deconv4s2_backward_data(int n, int h, int w, int cin, int cout, const float *dy,
                                    const float *wgt, float *dx, void *workspace, int threads);
/// dw (4, 4, cin, cout) (+)= d/dw. accumulate != 0 adds to dw.
void gk_f32_deconv4s2_backward_weights(int n, int h, int w, int cin, int cout, const float *x,
                                       const float *dy, float *dw, int accumulate,
                                       void *workspace, int threads);

/// Conv2d(4, stride 2, pad 1): x (n, h, w, cin) -> y (n, h/2, w/2, cout), weights KKIO; h, w even.
size_t gk_f32_conv4s2_workspace_bytes(int n, int h, int w, int cin, int cout, int threads);
void gk_f32_conv4s2_forward(int n, int h, int w, int cin, int cout, const float *x,
                            const float *wgt, const gk_epilogue *ep, float *y, void *workspace,
                            int threads);
void gk_f32_conv4s2_backward_data(int n, int h, int w, int cin, int cout, const float *dy,
                                  const float *wgt, float *dx, void *workspace, int threads);
void gk_f32_conv4s2_backward_weights(int n, int h, int w, int cin, int cout, const float *x,
                                     const float *dy, float *dw, int accumulate, void *workspace,
                                     int threads);

/// Dense y (n, kout) = x (n, kin) * W (kin, kout): the 1x1 -> 4x4 ConvTranspose2d(4, 1, 0)
/// (kin = nz, kout = 16 * cout, W laid out (cin, ky, kx, cout)) and the final Conv2d(4, 1, 0)
/// (kin = 16 * cin, W laid out (ky, kx, cin, cout)).
size_t gk_f32_dense_workspace_bytes(int n, int kin, int kout, int threads);
void gk_f32_dense_forward(int n, int kin, int kout, const float *x, const float *wgt,
                          const gk_epilogue *ep, float *y, void *workspace, int threads);
void gk_f32_dense_backward_data(int n, int kin, int kout, const float *dy, const float *wgt,
                                float *dx, void *workspace, int threads);
void gk_f32_dense_backward_weights(int n, int kin, int kout, const float *x, const float *dy,
                                   float *dw, int accumulate, void *workspace, int threads);

/// Inference with packed weights: the four phase matrices of a ConvTranspose2d(4, 2, 1), and a
/// dense layer's matrix, packed once; the forward passes then read them in place.
size_t gk_f32_deconv4s2_packed_floats(int cin, int cout);
void gk_f32_deconv4s2_pack_weights(int cin, int cout, const float *wgt, float *packed);
/// Packs straight from PyTorch's ConvTranspose2d layout (cin, cout, 4, 4), scaling output channel
/// co by col_scale[co] (NULL: 1), so a loader needs no converted copy of the weights.
void gk_f32_deconv4s2_pack_torch_weights(int cin, int cout, const float *torch_wgt,
                                         const float *col_scale, float *packed);
void gk_f32_deconv4s2_forward_packed(int n, int h, int w, int cin, int cout, const float *x,
                                     const float *packed, const gk_epilogue *ep, float *y,
                                     void *workspace, int threads);
size_t gk_f32_dense_packed_floats(int kin, int kout);
void gk_f32_dense_pack_weights(int kin, int kout, const float *wgt, float *packed);
void gk_f32_dense_forward_packed(int n, int kin, int kout, const float *x, const float *packed,
                                 const gk_epilogue *ep, float *y, void *workspace, int threads);

/// Narrow ConvTranspose2d(4, 2, 1) for inference (cout <= 4, the generator's RGB/gray output):
/// each output pixel is a direct dot product of its 4 taps x cin input channels with cout weight
/// vectors, vectorized over channels; no packing. Weights packed once as [phase][tap][cout][cin].
/// Epilogue: bias (may be NULL), act (GK_ACT_*), optional u8 pixels; no statistics.
enum { GK_NARROW_MAX_COUT = 4 };
/// Weight gradient of a ConvTranspose2d(4, 2, 1) with cout <= GK_NARROW_MAX_COUT without im2col:
/// per image an accumulator block in the workspace (bytes below), summed in image order (the
/// result does not depend on `threads`). gk_f32_deconv4s2_backward_weights calls it for such layers.
size_t gk_f32_deconv4s2_narrow_backward_weights_bytes(int n, int cin, int cout);
void gk_f32_deconv4s2_narrow_backward_weights(int n, int h, int w, int cin, int cout, const float *x,
                                              const float *dy, float *dw, int accumulate, void *workspace,
                                              int threads);
size_t gk_f32_deconv4s2_narrow_floats(int cin, int cout);
void gk_f32_deconv4s2_narrow_pack(int cin, int cout, const float *wgt, float *packed);
/// From PyTorch's (cin, cout, 4, 4) layout, output channel co scaled by col_scale[co] (NULL: 1).
void gk_f32_deconv4s2_narrow_pack_torch(int cin, int cout, const float *torch_wgt,
                                        const float *col_scale, float *packed);
void gk_f32_deconv4s2_narrow_forward(int n, int h, int w, int cin, int cout, const float *x,
                                     const float *packed, const float *bias, int act, float *y,
                                     uint8_t *u8, int threads);
void gk_f32_deconv4s2_narrow_forward_ref(int n, int h, int w, int cin, int cout, const float *x,
                                         const float *packed, const float *bias, int act, float *y,
                                         uint8_t *u8);
typedef void (*gk_narrow_row_fn)(int h, int w, int cin, int cout, const float *x_img,
                                 const float *packed, const float *bias, int act, int oy,
                                 float *y_row, uint8_t *u8_row);
typedef struct gk_narrow_variant {
  const char *name;
  unsigned requires;
  int available;
  gk_narrow_row_fn row;  ///< one output row (2w pixels) of one image
} gk_narrow_variant;
int gk_narrow_variant_count(void);
const gk_narrow_variant *gk_narrow_variant_at(int index);
int gk_narrow_selected_variant(void);
void gk_narrow_force_variant(int index);

/// Arguments of one narrow deconvolution (see gk_f32_deconv4s2_narrow_forward).
typedef struct gk_narrow_args {
  int n, h, w, cin, cout;
  const float *x;
  const float *packed;
  const float *bias;
  int act;
  float *y;
  uint8_t *u8;
} gk_narrow_args;
/// The rows thread `tid` of `nth` computes (for callers already inside a parallel region).
void gk_f32_deconv4s2_narrow_rows(const gk_narrow_args *args, int tid, int nth);

/// Winograd ConvTranspose2d(4, 2, 1) forward, F(2x2, 2x2) (tile 2) or F(4x4, 2x2) (tile 4), for h
/// and w multiples of the tile: kernels transformed and packed once per weight change, then per
/// phase an input transform, (tile + 1)^2 GEMMs
/// against the packed transformed kernels, and an output transform fused with the epilogue's bias,
/// activation, u8 pixels and column statistics (thread-count independent; no accumulate). `transposed` packs a
/// Conv2d(4, 2, 1)'s KKIO weights
/// (16 x cout x cin, read co -> ci) so that the forward computes that convolution's backward-data
/// (cin here = the convolution's output channels).
size_t gk_f32_deconv4s2_winograd_packed_floats(int tile, int cin, int cout);
void gk_f32_deconv4s2_winograd_pack_weights(int tile, int cin, int cout, const float *wgt, int transposed,
                                            float *packed, int threads);
/// The same bits in two passes, a transform into scratch ((tile + 1)^2 * cin * cout floats) and
/// the GEMM's pack_b: the reference of the fused packer above.
void gk_f32_deconv4s2_winograd_pack_weights_ref(int tile, int cin, int cout, const float *wgt, int transposed,
                                                float *packed, float *scratch);
size_t gk_f32_deconv4s2_winograd_workspace_bytes(int tile, int n, int h, int w, int cin, int cout, int threads);
void gk_f32_deconv4s2_winograd_forward(int tile, int n, int h, int w, int cin, int cout, const float *x,
                                   const float *packed, const gk_epilogue *ep, float *y,
                                   void *workspace, int threads);
/// Winograd Conv2d(4, 2, 1) forward, x (n, h, w, cin) -> y (n, h/2, w/2, cout) with h/2 and w/2
/// multiples of the tile: the same 2x2 correlation on the space-to-depth view of x (K = 4 cin).
/// Weights: the convolution's KKIO weights (16 x cin x cout); the reference packer's scratch:
/// (tile + 1)^2 * 4 cin * cout floats. Epilogue as above (bias, activation, u8, column statistics;
/// no accumulate).
size_t gk_f32_conv4s2_winograd_packed_floats(int tile, int cin, int cout);
void gk_f32_conv4s2_winograd_pack_weights(int tile, int cin, int cout, const float *wgt, float *packed,
                                          int threads);
void gk_f32_conv4s2_winograd_pack_weights_ref(int tile, int cin, int cout, const float *wgt, float *packed,
                                              float *scratch);
size_t gk_f32_conv4s2_winograd_workspace_bytes(int tile, int n, int h, int w, int cin, int cout, int threads);
void gk_f32_conv4s2_winograd_forward(int tile, int n, int h, int w, int cin, int cout, const float *x,
                                 const float *packed, const gk_epilogue *ep, float *y, void *workspace,
                                 int threads);

// MARK: - int8 inference (files written by gan-quant)
//
// A quantized layer computes acc[m][n] = sum_k xq[m][k] * wq[k][n] exactly in int32, where wq are
// per-output-channel symmetric int8 weights in [-127, 127] (BatchNorm folded in) and xq are
// activation codes: u8 with zero point 0 (post-ReLU activations use the whole range, and the
// deconvolution's borders are padded with the zero point), or s8 in [-127, 127] for the signed
// latent. Integer sums are exact, so every variant, thread count and batch gives the same bits.
// The epilogue is fp32: v = fmaf((float)acc, mult[n], bias[n]) (mult = in_scale * w_scale[n] /
// out_scale), then per GK_Q8_OUT_*.
/// GK_Q8_DECONV4S2_WINOGRAD2: the same ConvTranspose2d(4, 2, 1) as Winograd F(2x2, 2x2) with integer
/// transforms, bitwise equal to GK_Q8_DECONV4S2 (exact int32 sums); packed by
/// gk_q8_pack_deconv4s2_winograd2_torch; only where gk_q8_winograd_supported (int16 x int16
/// variants, that is without VNNI or sdot; even h and w; cin <= 2048).
enum { GK_Q8_DENSE = 0, GK_Q8_DECONV4S2 = 1, GK_Q8_DECONV4S2_WINOGRAD2 = 2 };
enum {
  GK_Q8_OUT_U8 = 0,        ///< code = rint(clamp(v, 0, 255)): requantization with ReLU as the clamp
  GK_Q8_OUT_F32_RELU = 1,  ///< y = max(v, 0): into a layer kept in fp32
  GK_Q8_OUT_F32_TANH = 2,  ///< y = tanh(v) (gk_tanhf), optional y_f32 and u8 pixels: the last layer
  GK_Q8_OUT_F32 = 3,       ///< y = v: before a per-image pass (a conditional SAGAN's BatchNorm)
};
/// The fp32 epilogue's activation (gk_q8_variant.dequant's act).
enum { GK_Q8_ACT_RELU = 0, GK_Q8_ACT_TANH = 1, GK_Q8_ACT_NONE = 2 };
typedef struct gk_q8_layer {
  int kind;
  /// DENSE: x (n, cin) -> y (n, cout). DECONV4S2: x (n, h, w, cin) -> y (n, 2h, 2w, cout), NHWC.
  int n, h, w, cin, cout;
  /// The input: u8 codes, or floats quantized as they are read:
  /// code = rint(clamp(x * x_inv_scale, lo, 255 or 127)), lo = -127 when x_signed, else 0.
  const uint8_t *x_u8;
  const float *x_f32;
  float x_inv_scale;
  int x_signed;
  const int8_t *packed;  ///< from gk_q8_pack_* for the variant selected when packing
  const float *mult;     ///< [cout]
  const float *bias;     ///< [cout]
  int out;               ///< GK_Q8_OUT_*
  uint8_t *y_u8;         ///< GK_Q8_OUT_U8
  float *y_f32;          ///< GK_Q8_OUT_F32_*: may be NULL for TANH when only pixels are wanted
  uint8_t *pixels;       ///< TANH: round((y + 1) * 127.5) as gk_f32_to_u8_ref, or NULL
} gk_q8_layer;

/// Packed weights: per phase (4 for a deconvolution, 1 for dense) a K x N matrix, K = 4 * cin
/// (tap-major, as the f32 phases) or kin, in the selected variant's panels. A deconvolution with
/// cout <= GK_Q8_NARROW_MAX_COUT (the RGB/gray output layer) is packed for the narrow path
/// instead: int16 [phase][tap][cout][cin rounded up to 16], direct dot products per pixel.
size_t gk_q8_packed_bytes(int kind, int cin, int cout);
/// From PyTorch's ConvTranspose2d(4, 2, 1) layout (cin, cout, 4, 4) of int8.
void gk_q8_pack_deconv4s2_torch(int cin, int cout, const int8_t *torch_wgt, int8_t *packed);
/// From PyTorch's first ConvTranspose2d(4, 1, 0) layout (nz, c, 4, 4): a dense layer
/// kin = nz, kout = 16 * c, columns (ky, kx, c) so that y is NHWC (n, 4, 4, c).
void gk_q8_pack_projection_torch(int nz, int c, const int8_t *torch_wgt, int8_t *packed);
/// A dense (kin, kout) row-major int8 matrix.
void gk_q8_pack_dense(int kin, int kout, const int8_t *wgt, int8_t *packed);
/// For GK_Q8_DECONV4S2_WINOGRAD2 (gk_q8_packed_bytes gives the size): per phase and Winograd
/// position, U = G g G^T of the int8 weights as int16 panels.
void gk_q8_pack_deconv4s2_winograd2_torch(int cin, int cout, const int8_t *torch_wgt, int8_t *packed);
size_t gk_q8_winograd2_packed_bytes(int cin, int cout);
int gk_q8_winograd_supported(int h, int w, int cin);

/// Workspace for running these layers (64-byte aligned), and the run: all layers in one parallel
/// region with a barrier between layers (layer i+1 may read layer i's output).
size_t gk_q8_workspace_bytes(const gk_q8_layer *layers, int count, int threads);
void gk_q8_run(const gk_q8_layer *layers, int count, void *workspace, int threads);
/// The oracle: direct loops over unpacked weights, wgt (K, N) row-major int8 for DENSE, PyTorch's
/// (cin, cout, 4, 4) for DECONV4S2. Bitwise equal to gk_q8_run.
void gk_q8_layer_ref(const gk_q8_layer *layer, const int8_t *wgt);

enum { GK_Q8_NARROW_MAX_COUT = 4 };

typedef struct gk_q8_variant {
  const char *name;
  unsigned requires;
  int available;
  int mr, nr;
  /// 2: A rows int16, packed B [K/2][NR][2] (vpmaddwd, smlal). 4: A rows int8, packed B
  /// [K/4][NR][4] followed by NR int32 column sums (sdot): u8 codes enter as code - 128 and
  /// 128 * column sum is added back, exactly.
  int kgroup;
  /// acc[MR][NR] = A rows (K padded to kgroup) x one packed B panel.
  void (*ukernel)(size_t kgroups, const void *const *a_rows, const int8_t *b, int32_t *acc);
  /// Activation codes of one row into int16: zero-extended u8, or quantized floats (narrow
  /// rows always; GEMM rows when kgroup is 2).
  void (*widen_u8)(size_t k, const uint8_t *src, int16_t *dst);
  void (*quantize_f32)(size_t k, const float *src, float inv_scale, float lo, float hi,
                       int16_t *dst);
  /// GEMM rows when kgroup is 4: int8 codes, u8 ones shifted by -128 (lo >= 0 for floats).
  void (*rows_u8)(size_t k, const uint8_t *src, int8_t *dst);
  void (*rows_f32)(size_t k, const float *src, float inv_scale, float lo, float hi, int8_t *dst);
  /// GK_Q8_OUT_U8 over n columns of one row.
  void (*requant_u8)(size_t n, const int32_t *acc, const float *mult, const float *bias,
                     uint8_t *dst);
  /// GK_Q8_OUT_F32*: y = fmaf(acc, mult, bias), then per act (GK_Q8_ACT_*): max(y, 0), gk_tanhf
  /// (y may be NULL, pixels optional) or nothing, over n elements with per-element mult and bias.
  void (*dequant)(size_t n, const int32_t *acc, const float *mult, const float *bias, int act,
                  float *y, uint8_t *pixels);
  /// Narrow deconvolution, one output row 2i + a: acc[2w][cout] from the input rows i + a - 1
  /// (row0) and i + a (row1), each w x cin16 int16 (NULL outside the image).
  void (*narrow_row)(int w, int cin16, int cout, int a, const int16_t *row0, const int16_t *row1,
                     const int16_t *packed, int32_t *acc);
  /// acc[MR][NR] = int16 A rows x one panel of int16 B [K/2][NR][2] (the Winograd layer's
  /// transformed weights need 10 bits); NULL where the variant has no int16 x int16 product.
  void (*ukernel_w16)(size_t kpairs, const void *const *a_rows, const int16_t *b, int32_t *acc);
} gk_q8_variant;
int gk_q8_variant_count(void);
const gk_q8_variant *gk_q8_variant_at(int index);
int gk_q8_selected_variant(void);
void gk_q8_force_variant(int index);

// MARK: - Step sequences: many kernel calls in one parallel region (batch-1 inference, where
// a fork/join per GEMM costs as much as the GEMM), with a barrier between steps.

enum { GK_STEP_GEMM = 0, GK_STEP_NARROW = 1 };
typedef struct gk_seq_step {
  int kind;
  /// Steps with the same non-zero group are independent GEMMs of one shape (a deconvolution's four
  /// phases): when the thread count divides the group, each thread runs whole GEMMs alone in its
  /// own workspace slice, with one barrier after the group instead of two per GEMM.
  int group;
  size_t m, n, k;  // GEMM
  gk_operand a, b;
  gk_output c;
  gk_epilogue ep;
  gk_narrow_args narrow;  // NARROW
} gk_seq_step;
/// Steps for a packed ConvTranspose2d(4, 2, 1) forward (4, one per phase), a packed dense forward
/// (1), and a narrow deconvolution (1). Each returns the number of steps written.
int gk_seq_deconv4s2_packed(gk_seq_step *out, int n, int h, int w, int cin, int cout,
                            const float *x, const float *packed, const gk_epilogue *ep, float *y);
int gk_seq_dense_packed(gk_seq_step *out, int n, int kin, int kout, const float *x,
                        const float *packed, const gk_epilogue *ep, float *y);
int gk_seq_narrow(gk_seq_step *out, const gk_narrow_args *args);
/// Runs the steps in order; workspace from gk_seq_workspace_bytes for the largest step.
void gk_seq_run_steps(gk_seq_step *steps, int count, void *workspace, int threads);
/// Workspace for running a GEMM of this shape in a sequence, cooperatively or one per thread.
size_t gk_seq_workspace_bytes(size_t m, size_t n, size_t k, int threads);

// Direct (textbook) references of the layer kernels: scatter/gather loops, no GEMM.
void gk_f32_deconv4s2_forward_ref(int n, int h, int w, int cin, int cout, const float *x,
                                  const float *wgt, const gk_epilogue *ep, float *y);
void gk_f32_deconv4s2_backward_data_ref(int n, int h, int w, int cin, int cout, const float *dy,
                                        const float *wgt, float *dx);
void gk_f32_deconv4s2_backward_weights_ref(int n, int h, int w, int cin, int cout,
                                           const float *x, const float *dy, float *dw,
                                           int accumulate);
void gk_f32_conv4s2_forward_ref(int n, int h, int w, int cin, int cout, const float *x,
                                const float *wgt, const gk_epilogue *ep, float *y);
void gk_f32_conv4s2_backward_data_ref(int n, int h, int w, int cin, int cout, const float *dy,
                                      const float *wgt, float *dx);
void gk_f32_conv4s2_backward_weights_ref(int n, int h, int w, int cin, int cout, const float *x,
                                         const float *dy, float *dw, int accumulate);
void gk_f32_dense_forward_ref(int n, int kin, int kout, const float *x, const float *wgt,
                              const gk_epilogue *ep, float *y);
void gk_f32_dense_backward_data_ref(int n, int kin, int kout, const float *dy, const float *wgt,
                                    float *dx);
void gk_f32_dense_backward_weights_ref(int n, int kin, int kout, const float *x, const float *dy,
                                       float *dw, int accumulate);

// MARK: - Element-wise references (the Swift SIMD kernels in GanKernels are measured and tested
// against these)

/// BatchNorm2d training forward over x (rows, c) NHWC-flattened, rows = n*h*w:
/// mean/var from col_sum/col_sumsq (as the GEMM epilogue produced them, over `rows`);
/// writes save_mean[c], save_rstd[c]; updates running_mean/var as PyTorch (momentum, unbiased var);
/// y = act(gamma * (x - mean) * rstd + beta) with act GK_ACT_RELU / GK_ACT_LRELU(slope) / NONE.
void gk_f32_bn_stats_ref(size_t rows, size_t c, const double *col_sum, const double *col_sumsq,
                         float eps, float momentum, float *save_mean, float *save_rstd,
                         float *running_mean, float *running_var);
void gk_f32_bn_apply_ref(size_t rows, size_t c, const float *x, const float *scale,
                         const float *shift, int act, float slope, float *y);
/// Backward of y = act(gamma * xhat + beta): given x, y, dy; writes dx, and dgamma/dbeta
/// (accumulate != 0 adds to them).
void gk_f32_bn_backward_ref(size_t rows, size_t c, const float *x, const float *y,
                            const float *dy, const float *save_mean, const float *save_rstd,
                            const float *gamma, int act, float slope, float *dx, float *dgamma,
                            float *dbeta, int accumulate);
void gk_f32_tanh_ref(size_t count, const float *x, float *y);
/// dx = dy * (1 - y^2)
void gk_f32_tanh_backward_ref(size_t count, const float *y, const float *dy, float *dx);
/// dx = dy * (y > 0 ? 1 : slope)  (ReLU when slope = 0); y is the activation output.
void gk_f32_act_backward_ref(size_t count, const float *y, const float *dy, float slope,
                             float *dx);
/// y = act(x) with GK_ACT_*
void gk_f32_act_ref(size_t count, const float *x, int act, float slope, float *y);
/// Mean BCE-with-logits over count logits against a constant target; writes d(loss)/d(logit)
/// scaled by grad_scale into grad (if non-NULL). Returns the loss.
double gk_f32_bce_logits(size_t count, const float *logits, float target, float *grad,
                         float grad_scale);
double gk_f32_bce_logits_ref(size_t count, const float *logits, float target, float *grad,
                             float grad_scale);
/// torch.optim.Adam (no weight decay, no amsgrad) step `step` (1-based) over a flat buffer.
void gk_f32_adam_ref(size_t count, float *param, const float *grad, float *m, float *v,
                     float lr, float beta1, float beta2, float eps, int64_t step);
/// uint8 pixels -> x / 127.5 - 1, and back with rounding and clamping.
void gk_u8_to_f32_ref(size_t count, const uint8_t *src, float *dst);
void gk_f32_to_u8_ref(size_t count, const float *src, uint8_t *dst);

/// The same passes through the configured variant (AVX2, NEON, or the scalar references).
void gk_f32_bn_apply(size_t rows, size_t c, const float *x, const float *scale, const float *shift,
                     int act, float slope, float *y);
void gk_f32_act_backward(size_t count, const float *y, const float *dy, float slope, float *dx);
void gk_f32_tanh_backward(size_t count, const float *y, const float *dy, float *dx);
typedef struct gk_elementwise_variant {
  const char *name;
  unsigned requires;
  int available;
  void (*bn_apply)(size_t rows, size_t c, const float *x, const float *scale, const float *shift,
                   int act, float slope, float *y);
  void (*act_backward)(size_t count, const float *y, const float *dy, float slope, float *dx);
  void (*tanh_backward)(size_t count, const float *y, const float *dy, float *dx);
} gk_elementwise_variant;
int gk_elementwise_variant_count(void);
const gk_elementwise_variant *gk_elementwise_variant_at(int index);
int gk_elementwise_selected_variant(void);
void gk_elementwise_force_variant(int index);

// The SAGAN kernels (self-attention, spectral norm, conditional BatchNorm, projection head).
#include "gan_kernels_sagan.h"

/// The one kernel configuration: per family the variant every operator uses, filled once at load
/// from the CPU probe (each table's fastest available entry) and changed only by the
/// gk_*_force_variant calls of tests and benchmarks. Operators read it and choose nothing.
typedef struct gk_kernel_config {
  const gk_gemm_variant *gemm;
  const gk_narrow_variant *narrow;
  const gk_elementwise_variant *elementwise;
  const gk_q8_variant *q8;
  const gk_softmax_variant *softmax;
  unsigned features;
} gk_kernel_config;
const gk_kernel_config *gk_config(void);

// MARK: - Sliced Wasserstein distance (the in-loop quality measure)

/// terms[d] = mean over r < rows of |sort(a v_d)[r] - sort(b v_d)[r]| in double, for the ndir
/// directions v_d = dirs[d * dim ...] (unit length); a and b are (rows x dim) row-major. The
/// projections are GEMMs in blocks of 64 directions and the sorts are radix sorts, one thread per
/// direction: thread-count independent. Workspace from gk_f32_swd_workspace_bytes.
size_t gk_f32_swd_workspace_bytes(size_t rows, size_t dim, int threads);
void gk_f32_swd(const float *a, const float *b, size_t rows, size_t dim, const float *dirs, int ndir,
                double *terms, void *workspace, int threads);
/// The same by plain dots and a merge sort; workspace of gk_f32_swd_ref_workspace_bytes(rows).
size_t gk_f32_swd_ref_workspace_bytes(size_t rows);
void gk_f32_swd_ref(const float *a, const float *b, size_t rows, size_t dim, const float *dirs, int ndir,
                    double *terms, void *workspace);

/// The vectorizable tanh used by the GEMM epilogue (max error ~2 ulp against tanhf).
float gk_tanhf(float x);

#ifdef __cplusplus
}
#endif

#endif
