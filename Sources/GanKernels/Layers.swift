import CGanKernels

/// GEMM on plain row-major matrices: C (m x n) = op(A) (m x k) * op(B) (k x n), then the epilogue.
/// `transposeA`: A is stored (k x m); `transposeB`: B is stored (n x k).
public enum Gemm {
  public static func workspaceBytes(m: Int, n: Int, k: Int, threads: Int) -> Int {
    gk_f32_gemm_workspace_bytes(m, n, k, Int32(threads))
  }

  public static func run(m: Int, n: Int, k: Int,
                         a: UnsafePointer<Float>, transposeA: Bool = false,
                         b: UnsafePointer<Float>, transposeB: Bool = false,
                         c: UnsafeMutablePointer<Float>, epilogue: Epilogue = .plain,
                         workspace: UnsafeMutableRawPointer, threads: Int,
                         reference: Bool = false) {
    var opA = transposeA ? gk_operand_matrix_t(a, m) : gk_operand_matrix(a, k)
    var opB = transposeB ? gk_operand_matrix_t(b, k) : gk_operand_matrix(b, n)
    var out = gk_output_dense(c, n)
    epilogue.withC { ep in
      if reference {
        gk_f32_gemm_ref(m, n, k, &opA, &opB, &out, ep)
      } else {
        gk_f32_gemm(m, n, k, &opA, &opB, &out, ep, workspace, Int32(threads))
      }
    }
  }
}

/// Shape of a 4x4 stride-2 (transposed) convolution over an NHWC batch. For ConvTranspose2d
/// (h, w) is the input size and the output is (2h, 2w); for Conv2d (h, w) is the input size and
/// the output is (h/2, w/2). Weights are KKIO: (4, 4, cin, cout).
public struct ConvShape: Sendable, Equatable {
  public var batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int
  public init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int) {
    self.batch = batch; self.height = height; self.width = width
    self.inChannels = inChannels; self.outChannels = outChannels
  }
  var n: Int32 { Int32(batch) }
  var h: Int32 { Int32(height) }
  var w: Int32 { Int32(width) }
  var ci: Int32 { Int32(inChannels) }
  var co: Int32 { Int32(outChannels) }
  public var weightCount: Int { 16 * inChannels * outChannels }
}

/// ConvTranspose2d(4, stride 2, pad 1), x (n, h, w, cin) -> y (n, 2h, 2w, cout).
public enum Deconv4s2 {
  public static func workspaceBytes(_ s: ConvShape, threads: Int) -> Int {
    gk_f32_deconv4s2_workspace_bytes(s.n, s.h, s.w, s.ci, s.co, Int32(threads))
  }
  public static func forward(_ s: ConvShape, x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>, epilogue: Epilogue = .plain,
                             workspace: UnsafeMutableRawPointer?, threads: Int, reference: Bool = false) {
    epilogue.withC { ep in
      if reference {
        gk_f32_deconv4s2_forward_ref(s.n, s.h, s.w, s.ci, s.co, x, weights, ep, y)
      } else {
        gk_f32_deconv4s2_forward(s.n, s.h, s.w, s.ci, s.co, x, weights, ep, y, workspace, Int32(threads))
      }
    }
  }
  public static func backwardData(_ s: ConvShape, dy: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                  dx: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer?,
                                  threads: Int, reference: Bool = false) {
    if reference {
      gk_f32_deconv4s2_backward_data_ref(s.n, s.h, s.w, s.ci, s.co, dy, weights, dx)
    } else {
      gk_f32_deconv4s2_backward_data(s.n, s.h, s.w, s.ci, s.co, dy, weights, dx, workspace, Int32(threads))
    }
  }
  public static func backwardWeights(_ s: ConvShape, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                     dw: UnsafeMutablePointer<Float>, accumulate: Bool,
                                     workspace: UnsafeMutableRawPointer?, threads: Int,
                                     reference: Bool = false) {
    if reference {
      gk_f32_deconv4s2_backward_weights_ref(s.n, s.h, s.w, s.ci, s.co, x, dy, dw, accumulate ? 1 : 0)
    } else {
      gk_f32_deconv4s2_backward_weights(s.n, s.h, s.w, s.ci, s.co, x, dy, dw, accumulate ? 1 : 0,
                                        workspace, Int32(threads))
    }
  }
}

extension Deconv4s2 {
  /// Floats of the four phase weight matrices packed for the selected GEMM variant.
  public static func packedCount(inChannels: Int, outChannels: Int) -> Int {
    gk_f32_deconv4s2_packed_floats(Int32(inChannels), Int32(outChannels))
  }
  /// Packs KKIO weights once (inference plans); repack if the GEMM variant is forced to another.
  public static func packWeights(inChannels: Int, outChannels: Int, weights: UnsafePointer<Float>,
                                 into packed: UnsafeMutablePointer<Float>) {
    gk_f32_deconv4s2_pack_weights(Int32(inChannels), Int32(outChannels), weights, packed)
  }
  /// Packs straight from PyTorch's (cin, cout, 4, 4) layout, scaling output channels.
  public static func packTorchWeights(inChannels: Int, outChannels: Int, torchWeights: UnsafePointer<Float>,
                                      channelScale: UnsafePointer<Float>?, into packed: UnsafeMutablePointer<Float>) {
    gk_f32_deconv4s2_pack_torch_weights(Int32(inChannels), Int32(outChannels), torchWeights, channelScale, packed)
  }
  public static func forward(_ s: ConvShape, x: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>, epilogue: Epilogue = .plain,
                             workspace: UnsafeMutableRawPointer?, threads: Int) {
    epilogue.withC { ep in
      gk_f32_deconv4s2_forward_packed(s.n, s.h, s.w, s.ci, s.co, x, packedWeights, ep, y, workspace, Int32(threads))
    }
  }
}

/// Conv2d(4, stride 2, pad 1), x (n, h, w, cin) -> y (n, h/2, w/2, cout).
public enum Conv4s2 {
  public static func workspaceBytes(_ s: ConvShape, threads: Int) -> Int {
    gk_f32_conv4s2_workspace_bytes(s.n, s.h, s.w, s.ci, s.co, Int32(threads))
  }
  public static func forward(_ s: ConvShape, x: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>, epilogue: Epilogue = .plain,
                             workspace: UnsafeMutableRawPointer?, threads: Int, reference: Bool = false) {
    epilogue.withC { ep in
      if reference {
        gk_f32_conv4s2_forward_ref(s.n, s.h, s.w, s.ci, s.co, x, weights, ep, y)
      } else {
        gk_f32_conv4s2_forward(s.n, s.h, s.w, s.ci, s.co, x, weights, ep, y, workspace, Int32(threads))
      }
    }
  }
  public static func backwardData(_ s: ConvShape, dy: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                  dx: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer?,
                                  threads: Int, reference: Bool = false) {
    if reference {
      gk_f32_conv4s2_backward_data_ref(s.n, s.h, s.w, s.ci, s.co, dy, weights, dx)
    } else {
      gk_f32_conv4s2_backward_data(s.n, s.h, s.w, s.ci, s.co, dy, weights, dx, workspace, Int32(threads))
    }
  }
  public static func backwardWeights(_ s: ConvShape, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                     dw: UnsafeMutablePointer<Float>, accumulate: Bool,
                                     workspace: UnsafeMutableRawPointer?, threads: Int,
                                     reference: Bool = false) {
    if reference {
      gk_f32_conv4s2_backward_weights_ref(s.n, s.h, s.w, s.ci, s.co, x, dy, dw, accumulate ? 1 : 0)
    } else {
      gk_f32_conv4s2_backward_weights(s.n, s.h, s.w, s.ci, s.co, x, dy, dw, accumulate ? 1 : 0,
                                      workspace, Int32(threads))
    }
  }
}

/// Dense y (n, kout) = x (n, kin) * W (kin, kout): the generator's 1x1 -> 4x4 projection and the
/// discriminator's final 4x4 -> 1 convolution.
public enum Dense {
  public static func workspaceBytes(batch: Int, inFeatures: Int, outFeatures: Int, threads: Int) -> Int {
    gk_f32_dense_workspace_bytes(Int32(batch), Int32(inFeatures), Int32(outFeatures), Int32(threads))
  }
  public static func forward(batch: Int, inFeatures: Int, outFeatures: Int, x: UnsafePointer<Float>,
                             weights: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                             epilogue: Epilogue = .plain, workspace: UnsafeMutableRawPointer?,
                             threads: Int, reference: Bool = false) {
    epilogue.withC { ep in
      if reference {
        gk_f32_dense_forward_ref(Int32(batch), Int32(inFeatures), Int32(outFeatures), x, weights, ep, y)
      } else {
        gk_f32_dense_forward(Int32(batch), Int32(inFeatures), Int32(outFeatures), x, weights, ep, y,
                             workspace, Int32(threads))
      }
    }
  }
  public static func backwardData(batch: Int, inFeatures: Int, outFeatures: Int, dy: UnsafePointer<Float>,
                                  weights: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                  workspace: UnsafeMutableRawPointer?, threads: Int, reference: Bool = false) {
    if reference {
      gk_f32_dense_backward_data_ref(Int32(batch), Int32(inFeatures), Int32(outFeatures), dy, weights, dx)
    } else {
      gk_f32_dense_backward_data(Int32(batch), Int32(inFeatures), Int32(outFeatures), dy, weights, dx,
                                 workspace, Int32(threads))
    }
  }
  public static func backwardWeights(batch: Int, inFeatures: Int, outFeatures: Int, x: UnsafePointer<Float>,
                                     dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                                     accumulate: Bool, workspace: UnsafeMutableRawPointer?, threads: Int,
                                     reference: Bool = false) {
    if reference {
      gk_f32_dense_backward_weights_ref(Int32(batch), Int32(inFeatures), Int32(outFeatures), x, dy, dw,
                                        accumulate ? 1 : 0)
    } else {
      gk_f32_dense_backward_weights(Int32(batch), Int32(inFeatures), Int32(outFeatures), x, dy, dw,
                                    accumulate ? 1 : 0, workspace, Int32(threads))
    }
  }
}

extension Dense {
  public static func packedCount(inFeatures: Int, outFeatures: Int) -> Int {
    gk_f32_dense_packed_floats(Int32(inFeatures), Int32(outFeatures))
  }
  public static func packWeights(inFeatures: Int, outFeatures: Int, weights: UnsafePointer<Float>,
                                 into packed: UnsafeMutablePointer<Float>) {
    gk_f32_dense_pack_weights(Int32(inFeatures), Int32(outFeatures), weights, packed)
  }
  public static func forward(batch: Int, inFeatures: Int, outFeatures: Int, x: UnsafePointer<Float>,
                             packedWeights: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                             epilogue: Epilogue = .plain, workspace: UnsafeMutableRawPointer?, threads: Int) {
    epilogue.withC { ep in
      gk_f32_dense_forward_packed(Int32(batch), Int32(inFeatures), Int32(outFeatures), x, packedWeights, ep, y,
                                  workspace, Int32(threads))
    }
  }
}

/// BCE-with-logits, mean over the batch, against a constant target (1 real, 0 fake).
public enum BCEWithLogits {
  /// Returns the loss; writes d(loss)/d(logit) * gradScale into `gradient` when given.
  public static func loss(_ logits: UnsafePointer<Float>, count: Int, target: Float,
                          gradient: UnsafeMutablePointer<Float>?, gradScale: Float = 1) -> Double {
    gk_f32_bce_logits(count, logits, target, gradient, gradScale)
  }
}

/// Direct ConvTranspose2d(4, 2, 1) for outputs of at most 4 channels (inference): no packing.
public enum NarrowDeconv4s2 {
  public static let maxOutChannels = Int(GK_NARROW_MAX_COUT)

  public static var variants: [(index: Int32, name: String, available: Bool)] {
    (0..<gk_narrow_variant_count()).map { i in
      let v = gk_narrow_variant_at(i)!.pointee
      return (i, String(cString: v.name), v.available != 0)
    }
  }
  public static var selectedVariantName: String { String(cString: gk_narrow_variant_at(gk_narrow_selected_variant())!.pointee.name) }
  public static func forceVariant(_ index: Int32?) { gk_narrow_force_variant(index ?? -1) }

  public static func packedCount(inChannels: Int, outChannels: Int) -> Int {
    gk_f32_deconv4s2_narrow_floats(Int32(inChannels), Int32(outChannels))
  }
  /// Packs KKIO weights as [phase][tap][cout][cin].
  public static func packWeights(inChannels: Int, outChannels: Int, weights: UnsafePointer<Float>,
                                 into packed: UnsafeMutablePointer<Float>) {
    precondition(outChannels <= maxOutChannels)
    gk_f32_deconv4s2_narrow_pack(Int32(inChannels), Int32(outChannels), weights, packed)
  }
  public static func packTorchWeights(inChannels: Int, outChannels: Int, torchWeights: UnsafePointer<Float>,
                                      channelScale: UnsafePointer<Float>?, into packed: UnsafeMutablePointer<Float>) {
    precondition(outChannels <= maxOutChannels)
    gk_f32_deconv4s2_narrow_pack_torch(Int32(inChannels), Int32(outChannels), torchWeights, channelScale, packed)
  }
  public static func forward(_ s: ConvShape, x: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>?, activation: Activation, y: UnsafeMutablePointer<Float>,
                             pixels: UnsafeMutablePointer<UInt8>? = nil, threads: Int, reference: Bool = false) {
    precondition(s.outChannels <= maxOutChannels)
    if reference {
      gk_f32_deconv4s2_narrow_forward_ref(s.n, s.h, s.w, s.ci, s.co, x, packedWeights, bias, activation.code, y, pixels)
    } else {
      gk_f32_deconv4s2_narrow_forward(s.n, s.h, s.w, s.ci, s.co, x, packedWeights, bias, activation.code, y, pixels,
                                      Int32(threads))
    }
  }
}

/// Kernel calls run in one parallel region with a barrier between steps: for batch-1 inference,
/// where a fork/join per GEMM costs about as much as the GEMM. The step buffer is allocated once;
/// filling and running it allocates nothing.
public final class StepSequence {
  private let steps: UnsafeMutablePointer<gk_seq_step>
  public let capacity: Int
  public private(set) var count = 0

  public init(capacity: Int) {
    self.capacity = capacity
    steps = .allocate(capacity: capacity)
    steps.initialize(repeating: gk_seq_step(), count: capacity)
  }

  deinit { steps.deallocate() }

  public func reset() { count = 0 }

  private func reserve(_ n: Int) {
    precondition(count + n <= capacity, "StepSequence: more than \(capacity) steps")
  }

  /// A packed ConvTranspose2d(4, 2, 1) forward (four phase GEMMs).
  public func appendDeconv(_ s: ConvShape, x: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>,
                           y: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
    reserve(4)
    count += Int(epilogue.withC { ep in
      gk_seq_deconv4s2_packed(steps + count, s.n, s.h, s.w, s.ci, s.co, x, packedWeights, ep, y)
    })
  }

  /// A packed dense forward.
  public func appendDense(batch: Int, inFeatures: Int, outFeatures: Int, x: UnsafePointer<Float>,
                          packedWeights: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
    reserve(1)
    count += Int(epilogue.withC { ep in
      gk_seq_dense_packed(steps + count, Int32(batch), Int32(inFeatures), Int32(outFeatures), x, packedWeights, ep, y)
    })
  }

  /// A narrow (cout <= 4) deconvolution.
  public func appendNarrowDeconv(_ s: ConvShape, x: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, activation: Activation, y: UnsafeMutablePointer<Float>,
                                 pixels: UnsafeMutablePointer<UInt8>?) {
    reserve(1)
    var args = gk_narrow_args(n: s.n, h: s.h, w: s.w, cin: s.ci, cout: s.co, x: x, packed: packedWeights, bias: bias,
                              act: activation.code, y: y, u8: pixels)
    count += Int(gk_seq_narrow(steps + count, &args))
  }

  /// Workspace for a GEMM of this shape run in a sequence (cooperatively or one per thread).
  public static func workspaceBytes(m: Int, n: Int, k: Int, threads: Int) -> Int {
    gk_seq_workspace_bytes(m, n, k, Int32(threads))
  }

  /// Runs the steps; `workspace` sized by `workspaceBytes` for the largest step at `threads`.
  public func run(workspace: UnsafeMutableRawPointer, threads: Int) {
    gk_seq_run_steps(steps, Int32(count), workspace, Int32(threads))
  }
}

/// Winograd ConvTranspose2d(4, 2, 1) forward on the four phase convolutions: F(2x2, 2x2) (tile 2,
/// 1.78x fewer multiplications than the direct phase GEMMs) or F(4x4, 2x2) (tile 4, 2.56x fewer),
/// plus additive input and output transforms. h and w must be multiples of the tile.
/// Measured relative max error against the scatter reference (kernel tests, random data in
/// [-1, 1], up to 1300 input channels): at most 2.0e-6 for tile 2 and 7.2e-6 for tile 4.
public enum WinogradDeconv4s2 {
  public static let tiles = [2, 4]

  public static func packedCount(tile: Int = 2, inChannels: Int, outChannels: Int) -> Int {
    gk_f32_deconv4s2_winograd_packed_floats(Int32(tile), Int32(inChannels), Int32(outChannels))
  }
  /// Floats of the scratch `packWeightsReference` needs.
  public static func scratchCount(tile: Int = 2, inChannels: Int, outChannels: Int) -> Int {
    (tile + 1) * (tile + 1) * inChannels * outChannels
  }
  /// Transforms and packs KKIO weights; `transposed`: a Conv2d(4, 2, 1)'s weights (16 x outChannels
  /// x inChannels), so that `forward` computes that convolution's backward-data. One pass, split
  /// over threads (training repacks after every optimizer step); allocates nothing.
  public static func packWeights(tile: Int = 2, inChannels: Int, outChannels: Int, weights: UnsafePointer<Float>,
                                 transposed: Bool = false, into packed: UnsafeMutablePointer<Float>,
                                 threads: Int = 1) {
    precondition(tiles.contains(tile), "Winograd tile must be 2 or 4")
    gk_f32_deconv4s2_winograd_pack_weights(Int32(tile), Int32(inChannels), Int32(outChannels), weights,
                                           transposed ? 1 : 0, packed, Int32(threads))
  }
  /// The reference packer (transform into `scratch`, then the GEMM's pack): the same bits.
  public static func packWeightsReference(tile: Int = 2, inChannels: Int, outChannels: Int,
                                          weights: UnsafePointer<Float>, transposed: Bool = false,
                                          into packed: UnsafeMutablePointer<Float>,
                                          scratch: UnsafeMutablePointer<Float>) {
    precondition(tiles.contains(tile), "Winograd tile must be 2 or 4")
    gk_f32_deconv4s2_winograd_pack_weights_ref(Int32(tile), Int32(inChannels), Int32(outChannels), weights,
                                               transposed ? 1 : 0, packed, scratch)
  }
  public static func workspaceBytes(tile: Int = 2, _ s: ConvShape, threads: Int) -> Int {
    gk_f32_deconv4s2_winograd_workspace_bytes(Int32(tile), s.n, s.h, s.w, s.ci, s.co, Int32(threads))
  }
  public static func supports(tile: Int, _ s: ConvShape) -> Bool {
    tiles.contains(tile) && s.height % tile == 0 && s.width % tile == 0
  }
  public static func forward(tile: Int = 2, _ s: ConvShape, x: UnsafePointer<Float>,
                             packedWeights: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>, epilogue: Epilogue = .plain,
                             workspace: UnsafeMutableRawPointer, threads: Int) {
    precondition(supports(tile: tile, s), "Winograd tile \(tile) needs h and w multiples of it (\(s))")
    precondition(!epilogue.accumulate, "Winograd forward: no accumulate")
    epilogue.withC { ep in
      gk_f32_deconv4s2_winograd_forward(Int32(tile), s.n, s.h, s.w, s.ci, s.co, x, packedWeights, ep, y, workspace,
                                        Int32(threads))
    }
  }
}

/// Winograd Conv2d(4, 2, 1) forward, x (n, h, w, cin) -> y (n, h/2, w/2, cout): the same 2x2
/// correlation on the space-to-depth view of x (cells of 2x2 pixels, K = 4 cin), with the tile's
/// 1.78x (F(2x2, 2x2)) or 2.56x (F(4x4, 2x2)) fewer multiplications. h/2 and w/2 must be multiples
/// of the tile. Measured relative max error against the reference (kernel tests, random data in
/// [-1, 1], up to 1300 input channels, K = 5200): at most 4.0e-6 for tile 2 and 9.2e-6 for tile 4.
public enum WinogradConv4s2 {
  public static let tiles = [2, 4]

  public static func packedCount(tile: Int, inChannels: Int, outChannels: Int) -> Int {
    gk_f32_conv4s2_winograd_packed_floats(Int32(tile), Int32(inChannels), Int32(outChannels))
  }
  /// Floats of the scratch `packWeightsReference` needs.
  public static func scratchCount(tile: Int, inChannels: Int, outChannels: Int) -> Int {
    (tile + 1) * (tile + 1) * 4 * inChannels * outChannels
  }
  /// Transforms and packs the convolution's KKIO weights (16 x inChannels x outChannels) in one
  /// pass, split over threads (training repacks after every optimizer step); allocates nothing.
  public static func packWeights(tile: Int, inChannels: Int, outChannels: Int, weights: UnsafePointer<Float>,
                                 into packed: UnsafeMutablePointer<Float>, threads: Int = 1) {
    precondition(tiles.contains(tile), "Winograd tile must be 2 or 4")
    gk_f32_conv4s2_winograd_pack_weights(Int32(tile), Int32(inChannels), Int32(outChannels), weights, packed,
                                         Int32(threads))
  }
  /// The reference packer (transform into `scratch`, then the GEMM's pack): the same bits.
  public static func packWeightsReference(tile: Int, inChannels: Int, outChannels: Int, weights: UnsafePointer<Float>,
                                          into packed: UnsafeMutablePointer<Float>,
                                          scratch: UnsafeMutablePointer<Float>) {
    precondition(tiles.contains(tile), "Winograd tile must be 2 or 4")
    gk_f32_conv4s2_winograd_pack_weights_ref(Int32(tile), Int32(inChannels), Int32(outChannels), weights, packed,
                                             scratch)
  }
  public static func workspaceBytes(tile: Int, _ s: ConvShape, threads: Int) -> Int {
    gk_f32_conv4s2_winograd_workspace_bytes(Int32(tile), s.n, s.h, s.w, s.ci, s.co, Int32(threads))
  }
  public static func supports(tile: Int, _ s: ConvShape) -> Bool {
    tiles.contains(tile) && s.height % (2 * tile) == 0 && s.width % (2 * tile) == 0
  }
  public static func forward(tile: Int, _ s: ConvShape, x: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>, epilogue: Epilogue = .plain,
                             workspace: UnsafeMutableRawPointer, threads: Int) {
    precondition(supports(tile: tile, s), "Winograd tile \(tile) needs h/2 and w/2 multiples of it (\(s))")
    precondition(!epilogue.accumulate, "Winograd forward: no accumulate")
    epilogue.withC { ep in
      gk_f32_conv4s2_winograd_forward(Int32(tile), s.n, s.h, s.w, s.ci, s.co, x, packedWeights, ep, y, workspace,
                                      Int32(threads))
    }
  }
}
