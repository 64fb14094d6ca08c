import CGanKernels

/// Row softmax (rows x n, row-major) and its backward, through the configured variant.
public enum Softmax {
  public static func rows(_ rows: Int, _ n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                          threads: Int, reference: Bool = false) {
    if reference { gk_f32_softmax_rows_ref(rows, n, x, y) } else { gk_f32_softmax_rows(rows, n, x, y, Int32(threads)) }
  }
  /// dx = y * (dy - rowsum(dy * y)); dx may be dy.
  public static func backwardRows(_ rows: Int, _ n: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                  dx: UnsafeMutablePointer<Float>, threads: Int, reference: Bool = false) {
    if reference {
      gk_f32_softmax_backward_rows_ref(rows, n, y, dy, dx)
    } else {
      gk_f32_softmax_backward_rows(rows, n, y, dy, dx, Int32(threads))
    }
  }
  public static var variantNames: [String] {
    (0..<gk_softmax_variant_count()).map { String(cString: gk_softmax_variant_at($0).pointee.name) }
  }
  public static func forceVariant(_ index: Int32?) { gk_softmax_force_variant(index ?? -1) }
}

/// The shape of one self-attention block's core: `batch` images of `positions` = H*W positions,
/// query/key width `keyChannels` (C/8) and value width `valueChannels` (C).
public struct AttentionShape: Sendable, Equatable {
  public var batch: Int, positions: Int, keyChannels: Int, valueChannels: Int
  public init(batch: Int, positions: Int, keyChannels: Int, valueChannels: Int) {
    self.batch = batch; self.positions = positions; self.keyChannels = keyChannels; self.valueChannels = valueChannels
  }
  var args: (Int32, Int32, Int32, Int32) { (Int32(batch), Int32(positions), Int32(keyChannels), Int32(valueChannels)) }
  /// Floats of the attention map (batch x positions x positions).
  public var mapCount: Int { batch * positions * positions }
}

/// O = softmax_rows(Q K^T) V per image (gk_f32_attention_*): q, k (batch, positions, keyChannels),
/// v, o (batch, positions, valueChannels), attn (batch, positions, positions) kept for backward.
public enum SelfAttention {
  public static func workspaceBytes(_ s: AttentionShape, threads: Int) -> Int {
    let (n, p, cq, cv) = s.args
    return gk_f32_attention_workspace_bytes(n, p, cq, cv, Int32(threads))
  }
  public static func forward(_ s: AttentionShape, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                             v: UnsafePointer<Float>, attn: UnsafeMutablePointer<Float>, o: UnsafeMutablePointer<Float>,
                             workspace: UnsafeMutableRawPointer?, threads: Int, reference: Bool = false) {
    let (n, p, cq, cv) = s.args
    if reference {
      gk_f32_attention_forward_ref(n, p, cq, cv, q, k, v, attn, o)
    } else {
      gk_f32_attention_forward(n, p, cq, cv, q, k, v, attn, o, workspace, Int32(threads))
    }
  }
  /// From dO: dQ, dK, dV (overwritten); ds (mapCount floats) receives dS = d(Q K^T).
  public static func backward(_ s: AttentionShape, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                              v: UnsafePointer<Float>, attn: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                              ds: UnsafeMutablePointer<Float>, dq: UnsafeMutablePointer<Float>,
                              dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                              workspace: UnsafeMutableRawPointer?, threads: Int, reference: Bool = false) {
    let (n, p, cq, cv) = s.args
    if reference {
      gk_f32_attention_backward_ref(n, p, cq, cv, q, k, v, attn, dout, ds, dq, dk, dv)
    } else {
      gk_f32_attention_backward(n, p, cq, cv, q, k, v, attn, dout, ds, dq, dk, dv, workspace, Int32(threads))
    }
  }
}

/// A weight seen as spectral norm's matrix W (rows x columns): element (o, r) at
/// o * rowStride + r * columnStride. `kkio(inChannels:outChannels:)` is a 4x4 (transposed)
/// convolution's KKIO weight with rows = output channels, as torch.nn.utils.spectral_norm views
/// Conv2d (dim 0) and ConvTranspose2d (dim 1) weights; columns then run tap-major (t * cin + ci),
/// not PyTorch's (ci * 16 + t), so v is permuted where files are read and written.
public struct SpectralMatrix: Sendable, Equatable {
  public var rows: Int, columns: Int, rowStride: Int, columnStride: Int
  public init(rows: Int, columns: Int, rowStride: Int, columnStride: Int) {
    self.rows = rows; self.columns = columns; self.rowStride = rowStride; self.columnStride = columnStride
  }
  public static func kkio(inChannels: Int, outChannels: Int) -> SpectralMatrix {
    SpectralMatrix(rows: outChannels, columns: 16 * inChannels, rowStride: 1, columnStride: outChannels)
  }
  /// PyTorch's view (out, -1) of a contiguous tensor.
  public static func rowMajor(rows: Int, columns: Int) -> SpectralMatrix {
    SpectralMatrix(rows: rows, columns: columns, rowStride: columns, columnStride: 1)
  }
}

/// torch.nn.utils.spectral_norm's arithmetic (gk_f32_spectral_norm*).
public enum SpectralNorm {
  /// One power iteration when `update` (u, v updated in place), then sigma = u . (W v); `scratch`
  /// holds rows floats; `normalized` (optional, laid out like w) receives W / sigma.
  public static func sigma(_ m: SpectralMatrix, w: UnsafePointer<Float>, u: UnsafeMutablePointer<Float>,
                           v: UnsafeMutablePointer<Float>, update: Bool, eps: Float = 1e-12,
                           scratch: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>?,
                           reference: Bool = false) -> Float {
    let f = reference ? gk_f32_spectral_norm_ref : gk_f32_spectral_norm
    return f(Int32(m.rows), Int32(m.columns), w, m.rowStride, m.columnStride, u, v, update ? 1 : 0, eps, scratch,
             normalized)
  }
  /// dW (+)= dW_sn / sigma - (<dW_sn, W> / sigma^2) u v^T.
  public static func backward(_ m: SpectralMatrix, w: UnsafePointer<Float>, u: UnsafePointer<Float>,
                              v: UnsafePointer<Float>, sigma: Float, dNormalized: UnsafePointer<Float>,
                              dw: UnsafeMutablePointer<Float>, accumulate: Bool, reference: Bool = false) {
    let f = reference ? gk_f32_spectral_norm_backward_ref : gk_f32_spectral_norm_backward
    f(Int32(m.rows), Int32(m.columns), w, m.rowStride, m.columnStride, u, v, sigma, dNormalized, dw, accumulate ? 1 : 0)
  }
}

/// Conditional BatchNorm2d's class-dependent parts (gk_f32_cbn_*): the per-image scale and shift
/// that BatchNorm.apply then uses image by image, and the backward pass.
public enum ConditionalBatchNorm {
  /// scale/shift (images x channels) from the gain and bias tables (classes x channels).
  public static func scaleShift(images n: Int, channels c: Int, labels: UnsafePointer<Int32>,
                                gain: UnsafePointer<Float>, bias: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, scale: UnsafeMutablePointer<Float>,
                                shift: UnsafeMutablePointer<Float>) {
    gk_f32_cbn_scale_shift(Int32(n), Int32(c), labels, gain, bias, mean, rstd, scale, shift)
  }
  /// y = act(x * scale[r] + shift[r]) image by image, r = rows[i] (a class's row of per-class
  /// tables) or i when rows is nil (per-image rows from `scaleShift`); y may be x.
  public static func apply(images n: Int, rowsPerImage: Int, channels c: Int, x: UnsafePointer<Float>,
                           scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, rows: UnsafePointer<Int32>?,
                           activation: Activation, y: UnsafeMutablePointer<Float>, reference: Bool = false) {
    (reference ? gk_f32_cbn_apply_ref : gk_f32_cbn_apply)(Int32(n), Int32(rowsPerImage), Int32(c), x, scale, shift, rows,
                                                          activation.code, activation.slope, y)
  }
  /// The backward pass in two halves around a sum over ranks (synchronized BatchNorm): pass 1
  /// writes dgain, dbias and leaves the batch-wide sums in scratch's last 2 * channels doubles
  /// (`sumsOffset`), which the caller may reduce; then dx with `totalRows` rows over all ranks.
  public static func backwardSums(images n: Int, rowsPerImage: Int, channels c: Int, classes: Int,
                                  labels: UnsafePointer<Int32>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                  dy: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                  gain: UnsafePointer<Float>, activation: Activation, dgain: UnsafeMutablePointer<Float>,
                                  dbias: UnsafeMutablePointer<Float>, accumulate: Bool,
                                  scratch: UnsafeMutablePointer<Double>) {
    gk_f32_cbn_backward_sums(Int32(n), Int32(rowsPerImage), Int32(c), Int32(classes), labels, x, y, dy, mean, rstd, gain,
                             activation.code, activation.slope, dgain, dbias, accumulate ? 1 : 0, scratch)
  }
  public static func sumsOffset(images n: Int, channels c: Int) -> Int { 2 * n * c }
  public static func backwardData(images n: Int, rowsPerImage: Int, totalRows: Int, channels c: Int,
                                  labels: UnsafePointer<Int32>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                  dy: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                  gain: UnsafePointer<Float>, activation: Activation, dx: UnsafeMutablePointer<Float>,
                                  scratch: UnsafePointer<Double>) {
    gk_f32_cbn_backward_dx(Int32(n), Int32(rowsPerImage), totalRows, Int32(c), labels, x, y, dy, mean, rstd, gain,
                           activation.code, activation.slope, dx, scratch)
  }
  /// `scratch`: (2 * images + 2) * channels doubles.
  public static func backward(images n: Int, rowsPerImage: Int, channels c: Int, classes: Int,
                              labels: UnsafePointer<Int32>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                              dy: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                              gain: UnsafePointer<Float>, activation: Activation, dx: UnsafeMutablePointer<Float>,
                              dgain: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>, accumulate: Bool,
                              scratch: UnsafeMutablePointer<Double>, reference: Bool = false) {
    let (act, slope) = (activation.code, activation.slope)
    if reference {
      gk_f32_cbn_backward_ref(Int32(n), Int32(rowsPerImage), Int32(c), Int32(classes), labels, x, y, dy, mean, rstd,
                              gain, act, slope, dx, dgain, dbias, accumulate ? 1 : 0)
    } else {
      gk_f32_cbn_backward(Int32(n), Int32(rowsPerImage), Int32(c), Int32(classes), labels, x, y, dy, mean, rstd,
                          gain, act, slope, dx, dgain, dbias, accumulate ? 1 : 0, scratch)
    }
  }
}

/// The projection discriminator's class term (gk_f32_projection_*): logit += <embed[y], sum_p h>.
public enum ProjectionHead {
  public static func forward(images n: Int, positions: Int, channels c: Int, labels: UnsafePointer<Int32>,
                             h: UnsafePointer<Float>, embed: UnsafePointer<Float>, logit: UnsafeMutablePointer<Float>,
                             reference: Bool = false) {
    let f = reference ? gk_f32_projection_forward_ref : gk_f32_projection_forward
    f(Int32(n), Int32(positions), Int32(c), labels, h, embed, logit)
  }
  /// dh (+)= dlogit * embed[y]; dembed[y] += dlogit * sum_p h.
  public static func backward(images n: Int, positions: Int, channels c: Int, labels: UnsafePointer<Int32>,
                              h: UnsafePointer<Float>, embed: UnsafePointer<Float>, dlogit: UnsafePointer<Float>,
                              dh: UnsafeMutablePointer<Float>, accumulate: Bool, dembed: UnsafeMutablePointer<Float>,
                              reference: Bool = false) {
    let f = reference ? gk_f32_projection_backward_ref : gk_f32_projection_backward
    f(Int32(n), Int32(positions), Int32(c), labels, h, embed, dlogit, dh, accumulate ? 1 : 0, dembed)
  }
}

/// The attention block's small passes (gk_f32_scale_add, gk_f32_dot, gk_f32_column_sums).
public enum AttentionPasses {
  /// out = alpha * x + y (y = gamma * o + x), or alpha * x when y is nil; out may alias x or y.
  public static func scaleAdd(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafePointer<Float>?,
                              out: UnsafeMutablePointer<Float>, reference: Bool = false) {
    (reference ? gk_f32_scale_add_ref : gk_f32_scale_add)(count, alpha, x, y, out)
  }
  /// sum x * y in double.
  public static func dot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                         reference: Bool = false) -> Double {
    (reference ? gk_f32_dot_ref : gk_f32_dot)(count, x, y)
  }
  /// out (+)= the column sums of x (rows x columns).
  public static func columnSums(rows: Int, columns: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                accumulate: Bool, reference: Bool = false) {
    (reference ? gk_f32_column_sums_ref : gk_f32_column_sums)(rows, columns, x, out, accumulate ? 1 : 0)
  }
}

/// The SAGAN's losses on critic logits (gk_f32_hinge_logits, gk_f32_mean_logits).
public enum CriticLoss {
  /// real: mean(relu(1 - d)); fake: mean(relu(1 + d)). gradient (optional) * gradScale.
  public static func hinge(_ logits: UnsafePointer<Float>, count: Int, real: Bool,
                           gradient: UnsafeMutablePointer<Float>?, gradScale: Float = 1) -> Double {
    gk_f32_hinge_logits(count, logits, real ? 1 : -1, gradient, gradScale)
  }
  /// mean(d); gradient (optional) = gradScale / count.
  public static func mean(_ logits: UnsafePointer<Float>, count: Int, gradient: UnsafeMutablePointer<Float>?,
                          gradScale: Float = 1) -> Double {
    gk_f32_mean_logits(count, logits, gradient, gradScale)
  }
}

/// The attention core's double backward (gk_f32_attention_double_backward): adjoints of (q, k,
/// v, dO) from adjoints of the first backward's (dQ, dK, dV), with the forward's attention map
/// and the first backward's dS.
public enum AttentionDoubleBackward {
  public static func workspaceBytes(_ s: AttentionShape, threads: Int) -> Int {
    let (n, p, cq, cv) = s.args
    return gk_f32_attention_double_backward_workspace_bytes(n, p, cq, cv, Int32(threads))
  }
  public static func run(_ s: AttentionShape, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                         v: UnsafePointer<Float>, attn: UnsafePointer<Float>, dout: UnsafePointer<Float>,
                         ds: UnsafePointer<Float>, gdq: UnsafePointer<Float>, gdk: UnsafePointer<Float>,
                         gdv: UnsafePointer<Float>, gq: UnsafeMutablePointer<Float>, gk: UnsafeMutablePointer<Float>,
                         gv: UnsafeMutablePointer<Float>, gdout: UnsafeMutablePointer<Float>,
                         workspace: UnsafeMutableRawPointer?, threads: Int) {
    let (n, p, cq, cv) = s.args
    gk_f32_attention_double_backward(n, p, cq, cv, q, k, v, attn, dout, ds, gdq, gdk, gdv, gq, gk, gv, gdout, workspace,
                                     Int32(threads))
  }
}

/// WGAN-GP's and WGAN's small passes (gk_f32_mix_samples, gk_f32_gradient_penalty, gk_f32_clamp).
public enum WassersteinPasses {
  /// out[i] = a[i] * x[i] + (1 - a[i]) * y[i] per sample of `per` floats.
  public static func mix(samples n: Int, per: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>,
                         y: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    gk_f32_mix_samples(n, per, a, x, y, out)
  }
  /// lambda / n * sum (||g_i|| - 1)^2; v its gradient with respect to g, norms the ||g_i||.
  public static func gradientPenalty(samples n: Int, per: Int, g: UnsafePointer<Float>, lambda: Float,
                                     v: UnsafeMutablePointer<Float>?, norms: UnsafeMutablePointer<Float>?) -> Double {
    gk_f32_gradient_penalty(n, per, g, lambda, v, norms)
  }
  public static func clamp(count: Int, limit: Float, _ x: UnsafeMutablePointer<Float>) {
    gk_f32_clamp(count, -limit, limit, x)
  }
}
