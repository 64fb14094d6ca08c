import GanKernels
import GanModel

/// One fp32 generator layer planned for inference (BatchNorm folded in): layer i of the
/// architecture, its kernel, its packed weights and bias. The one fp32 forward: GeneratorRuntime
/// runs every layer through it, Int8GeneratorRuntime the layers a file keeps in fp32.
struct FP32Layer {
  enum Kernel: Equatable {
    /// Layer 0, ConvTranspose2d(nz, c, 4, 1, 0) from 1x1: one GEMM, outputs (ky, kx, c).
    case projection
    /// ConvTranspose2d(4, 2, 1) as four phase GEMMs.
    case deconv
    /// The 1- or 3-channel output layer's direct kernel.
    case narrow
    /// ConvTranspose2d(4, 2, 1) as Winograd F(tile x tile, 2 x 2).
    case winograd(tile: Int)
  }

  let layer: Int
  let kernel: Kernel
  let architecture: Architecture
  let weights: UnsafeMutablePointer<Float>
  /// Per output column: (ky, kx, channel) for the projection, per channel otherwise.
  let bias: UnsafeMutablePointer<Float>
  /// A hidden layer's epilogue activation: ReLU, or none where a per-image pass follows
  /// (conditional BatchNorm applies the class's scale and shift, then ReLU).
  var activation: Activation = .relu

  /// The kernel of layer i: winogradTile 0 for the direct kernels.
  static func kernel(layer i: Int, _ a: Architecture, winogradTile: Int = 0) -> Kernel {
    if i == 0 { return .projection }
    if i == a.layerCount - 1 && a.nc <= NarrowDeconv4s2.maxOutChannels { return .narrow }
    return winogradTile > 0 ? .winograd(tile: winogradTile) : .deconv
  }

  static func shape(layer i: Int, _ a: Architecture, batch: Int) -> ConvShape { a.generatorDeconvolution(i,
      batch: batch) }

  static func packedCount(layer i: Int, _ kernel: Kernel, _ a: Architecture) -> Int {
    let cin = a.generatorInputChannels(i), cout = a.generatorChannels(i)
    switch kernel {
    case .projection: return Dense.packedCount(inFeatures: cin, outFeatures: 16 * cout)
    case .narrow: return NarrowDeconv4s2.packedCount(inChannels: cin, outChannels: cout)
    case .deconv: return Deconv4s2.packedCount(inChannels: cin, outChannels: cout)
    case .winograd(let t): return WinogradDeconv4s2.packedCount(tile: t, inChannels: cin, outChannels: cout)
    }
  }

  static func biasCount(layer i: Int,
                        _ a: Architecture) -> Int { i == 0 ? 16 * a.generatorChannels(0) : a.generatorChannels(i) }

  /// Workspace of `forward` at `batch` images.
  static func workspaceBytes(layer i: Int, _ kernel: Kernel, _ a: Architecture, batch: Int, threads: Int) -> Int {
    switch kernel {
    case .projection: return Dense.workspaceBytes(batch: batch, inFeatures: a.nz,
                                                  outFeatures: 16 * a.generatorChannels(0), threads: threads)
    case .narrow: return 0
    case .deconv: return Deconv4s2.workspaceBytes(shape(layer: i, a, batch: batch), threads: threads)
    case .winograd(let t): return WinogradDeconv4s2.workspaceBytes(tile: t, shape(layer: i, a, batch: batch),
                                                                   threads: threads)
    }
  }

  /// Packs PyTorch-layout (cin, cout, 4, 4) weights, each output channel scaled by `channelScale`
  /// (the BatchNorm fold) when given, and sets the bias from the per-channel `shift`.
  func pack(torch: UnsafePointer<Float>, channelScale: [Float]?, shift: [Float]) {
    let a = architecture, i = layer, cin = a.generatorInputChannels(i), cout = a.generatorChannels(i)
    switch kernel {
    case .projection, .winograd:
      // Dense and Winograd pack from the internal layout: convert (one layer), scale, pack.
      let layout: TensorLayout = i == 0 ? .projectionWeight(cin: cin, cout: cout) : .deconvWeight(cin: cin, cout: cout)
      let w = UnsafeMutablePointer<Float>.allocate(capacity: layout.count)
      defer { w.deallocate() }
      layout.fromTorch(torch, to: w)
      if let s = channelScale { for e in 0..<layout.count { w[e] *= s[e % cout] } }
      if case .winograd(let t) = kernel {
        WinogradDeconv4s2.packWeights(tile: t, inChannels: cin, outChannels: cout, weights: w, into: weights)
      } else {
        Dense.packWeights(inFeatures: cin, outFeatures: 16 * cout, weights: w, into: weights)
      }
    case .narrow:
      NarrowDeconv4s2.packTorchWeights(inChannels: cin, outChannels: cout, torchWeights: torch,
                                       channelScale: channelScale, into: weights)
    case .deconv:
      Deconv4s2.packTorchWeights(inChannels: cin, outChannels: cout, torchWeights: torch, channelScale: channelScale,
                                 into: weights)
    }
    let positions = i == 0 ? 16 : 1
    for p in 0..<positions { for c in 0..<cout { bias[p * cout + c] = shift[c] } }
  }

  private var isLast: Bool { layer == architecture.layerCount - 1 }

  private func epilogue(_ pixels: UnsafeMutablePointer<UInt8>?) -> Epilogue {
    Epilogue(bias: UnsafePointer(bias), activation: isLast ? .tanh : activation, pixels: isLast ? pixels : nil)
  }

  /// count images: x (count, H, W, cin) NHWC (the latents for the projection) -> y, ReLU after
  /// hidden layers, tanh (and uint8 pixels) after the last.
  func forward(count: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
               pixels: UnsafeMutablePointer<UInt8>?,
               workspace: UnsafeMutableRawPointer, threads: Int) {
    let a = architecture
    switch kernel {
    case .projection:
      Dense.forward(batch: count, inFeatures: a.nz, outFeatures: 16 * a.generatorChannels(0), x: x,
                    packedWeights: weights, y: y,
                    epilogue: epilogue(pixels), workspace: workspace, threads: threads)
    case .narrow:
      NarrowDeconv4s2.forward(FP32Layer.shape(layer: layer, a, batch: count), x: x, packedWeights: weights, bias: bias,
                              activation: .tanh, y: y, pixels: pixels, threads: threads)
    case .deconv:
      Deconv4s2.forward(FP32Layer.shape(layer: layer, a, batch: count), x: x, packedWeights: weights, y: y,
                        epilogue: epilogue(pixels), workspace: workspace, threads: threads)
    case .winograd(let t):
      WinogradDeconv4s2.forward(tile: t, FP32Layer.shape(layer: layer, a, batch: count), x: x, packedWeights: weights,
                                y: y,
                                epilogue: epilogue(pixels), workspace: workspace, threads: threads)
    }
  }

  /// The same as a step of `sequence` (run later in one parallel region); not for Winograd.
  func append(to sequence: StepSequence, count: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
              pixels: UnsafeMutablePointer<UInt8>?) {
    let a = architecture
    switch kernel {
    case .projection:
      sequence.appendDense(batch: count, inFeatures: a.nz, outFeatures: 16 * a.generatorChannels(0), x: x,
                           packedWeights: weights,
                           y: y, epilogue: epilogue(pixels))
    case .narrow:
      sequence.appendNarrowDeconv(FP32Layer.shape(layer: layer, a, batch: count), x: x, packedWeights: weights,
                                  bias: bias,
                                  activation: .tanh, y: y, pixels: pixels)
    case .deconv:
      sequence.appendDeconv(FP32Layer.shape(layer: layer, a, batch: count), x: x, packedWeights: weights, y: y,
                            epilogue: epilogue(pixels))
    case .winograd:
      preconditionFailure("FP32Layer: Winograd layers are not sequence steps")
    }
  }
}
