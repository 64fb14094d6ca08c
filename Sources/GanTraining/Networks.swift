import GanKernels
import GanModel

/// How a forward pass treats BatchNorm.
public enum NormalizationMode: Sendable, Equatable {
  /// Batch statistics; running statistics updated (PyTorch train mode).
  case train
  /// Running statistics (PyTorch eval mode).
  case eval
  /// Batch statistics without touching the running statistics (sample grids during training).
  case batchStatistics
  /// Batch statistics, accumulated into the running statistics with `momentum` (re-estimation
  /// before export: momentum 1/(p+1) at pass p is PyTorch's momentum=None cumulative average).
  case accumulate(momentum: Float)
}

/// The DCGAN generator for a fixed batch size: parameters in a ParameterSet, activations and
/// scratch in one arena, every pass over preallocated buffers (no allocation after init).
///
/// Activations are NHWC. Layer i: x_i -> conv -> pre_i -> BN + ReLU -> act_i (all but the last);
/// the last layer's epilogue applies tanh and writes `output` (batch, S, S, nc).
public final class Generator {
  public let architecture: Architecture
  public let batch: Int
  public let threads: Int
  public let parameters: ParameterSet
  /// Latents (batch, nz): fill before `forward`.
  public let input: UnsafeMutablePointer<Float>
  /// Images (batch, S, S, nc) in [-1, 1], NHWC.
  public let output: UnsafeMutablePointer<Float>
  /// d(loss)/d(output): fill before `backward`.
  public let outputGradient: UnsafeMutablePointer<Float>

  private let arena: Arena
  private let buffers: LayerBuffers
  /// Layer i's output after BatchNorm and ReLU (i < layerCount - 1), NHWC, after `forward`.
  public func activation(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(buffers.act[i]) }
  private let norms: [BatchNormLayer]
  private let weights: [UnsafeMutablePointer<Float>]
  private let weightGradients: [UnsafeMutablePointer<Float>]
  /// The output layer (1 or 3 channels) runs the direct narrow kernel; its weights are repacked
  /// (16 * cin * nc floats) at every forward, since the optimizer changes them between passes.
  private let narrowPacked: UnsafeMutablePointer<Float>?
  /// Per layer: the Winograd tile of its forward (BatchNorm statistics fused), or 0 for the
  /// direct phase GEMMs. All 0 unless built with `winograd`; never the output layer.
  public let forwardTiles: [Int]

  public var outputCount: Int { batch * architecture.imageSize * architecture.imageSize * architecture.nc }

  /// winograd: the hidden deconvolutions `AlgorithmPolicy` picks run as Winograd (results differ
  /// from the direct kernels within rounding, and stay independent of the thread count).
  /// forwardTiles: per layer a tile (2, 4) or 0 instead of the table's choice (tests, measurements).
  public init(architecture arch: Architecture, batch: Int, threads: Int, parameters: ParameterSet? = nil,
              winograd: Bool = false, forwardTiles chosenTiles: [Int]? = nil) {
    precondition(batch > 0 && threads > 0)
    let params = parameters ?? ParameterSet(spec: arch.generatorSpec)
    self.architecture = arch
    self.batch = batch
    self.threads = threads
    self.parameters = params
    let spec = params.spec
    let L = arch.layerCount
    (weights, weightGradients) = params.convolutionViews

    func elements(_ i: Int) -> Int { arch.generatorOutputElements(i, batch: batch) }
    func deconvShape(_ i: Int) -> ConvShape { arch.generatorDeconvolution(i, batch: batch) }
    var ws = Dense.workspaceBytes(batch: batch, inFeatures: arch.nz, outFeatures: 16 * arch.generatorChannels(0),
                                  threads: threads)
    for i in 1..<L { ws = max(ws, Deconv4s2.workspaceBytes(deconvShape(i), threads: threads)) }
    let tiles = WinogradPass.tiles(.deconvolutionForward, layerCount: L,
                                   shape: { $0 > 0 && $0 < L - 1 ? deconvShape($0) : nil },
                                   chosen: chosenTiles, winograd: winograd)
    forwardTiles = tiles
    let passes = (0..<L).filter { tiles[$0] > 0 }.map { i in
      WinogradPass(layer: i, kind: .deconvolutionForward, tile: tiles[i], inChannels: deconvShape(i).inChannels,
                   outChannels: deconvShape(i).outChannels)
    }
    for p in passes { ws = max(ws, WinogradDeconv4s2.workspaceBytes(tile: p.tile, deconvShape(p.layer),
                                                                    threads: threads)) }
    let maxElements = (0..<L).map(elements).max()!
    let workspaceBytes = ws
    let narrowCount = arch.nc <= NarrowDeconv4s2.maxOutChannels
      ? NarrowDeconv4s2.packedCount(inChannels: arch.generatorInputChannels(L - 1), outChannels: arch.nc) : 0
    let hidden = (0..<(L - 1)).map(elements)
    let built = Arena.build { a in
      (input: a.floats(batch * arch.nz), output: a.floats(elements(L - 1)), outputGradient: a.floats(elements(L - 1)),
       buffers: LayerBuffers(arena: a, preElements: hidden, actElements: hidden, scratchElements: maxElements,
                             workspaceBytes: workspaceBytes, winogradPasses: passes, layerCount: L),
       norms: (0..<(L - 1)).map { i in
         BatchNormLayer(rows: elements(i) / arch.generatorChannels(i), channels: arch.generatorChannels(i),
                        activation: .relu, arena: a, params: params, bnIndex: spec.bnIndex[i]!, positions: i == 0 ? 16 : 1)
       },
       narrowPacked: narrowCount > 0 ? a.floats(narrowCount) : nil)
    }
    arena = built.arena
    (input, output, outputGradient, buffers, norms, narrowPacked) = built.value
  }

  private func shape(_ i: Int) -> ConvShape { architecture.generatorDeconvolution(i, batch: batch) }

  /// output = G(input).
  public func forward(mode: NormalizationMode = .train) {
    forward(layers: architecture.layerCount, mode: mode)
  }

  /// The first `layers` layers of the forward pass (all of them, or all but the output layer
  /// for BatchNorm re-estimation).
  private func forward(layers: Int, mode: NormalizationMode) {
    let L = architecture.layerCount
    for i in 0..<layers {
      let last = i == L - 1
      let x: UnsafePointer<Float> = i == 0 ? UnsafePointer(input) : UnsafePointer(buffers.act[i - 1])
      let y = last ? output : buffers.pre[i]
      let ep = last ? Epilogue(activation: .tanh) : (mode == .eval ? .plain : norms[i].statisticsEpilogue())
      if i == 0 {
        Dense.forward(batch: batch, inFeatures: architecture.nz, outFeatures: 16 * architecture.generatorChannels(0),
                      x: x, weights: weights[0], y: y, epilogue: ep, workspace: buffers.workspace, threads: threads)
      } else if last, let packed = narrowPacked {
        NarrowDeconv4s2.packWeights(inChannels: architecture.generatorInputChannels(i), outChannels: architecture.nc,
                                    weights: weights[i], into: packed)
        NarrowDeconv4s2.forward(shape(i), x: x, packedWeights: packed, bias: nil, activation: .tanh, y: y,
                                threads: threads)
      } else if forwardTiles[i] > 0 {
        let packed = buffers.winogradWeights.packed(.deconvolutionForward, layer: i, parameters: parameters,
                                                    weights: weights, threads: threads)
        WinogradDeconv4s2.forward(tile: forwardTiles[i], shape(i), x: x, packedWeights: packed, y: y,
                                  epilogue: ep, workspace: buffers.workspace, threads: threads)
      } else {
        Deconv4s2.forward(shape(i), x: x, weights: weights[i], y: y, epilogue: ep, workspace: buffers.workspace,
                          threads: threads)
      }
      if !last {
        norms[i].forward(x: buffers.pre[i], y: buffers.act[i], mode: mode)
      }
    }
  }

  /// BatchNorm running statistics re-estimated from `passes` batches drawn by `fillLatents`
  /// (cumulative average, as PyTorch with momentum=None): used before export, since eval mode
  /// with drifted running statistics is a known source of broken DCGAN output.
  public func reestimateBatchNormStatistics(passes: Int, fillLatents: (UnsafeMutablePointer<Float>, Int) -> Void) {
    parameters.resetBuffers()
    for p in 0..<passes {
      fillLatents(input, p)
      forward(layers: architecture.layerCount - 1, mode: .accumulate(momentum: 1 / Float(p + 1)))
    }
  }

  /// Gradients of all parameters from `outputGradient` (after a train-mode forward).
  /// accumulate: add to the gradients instead of overwriting them.
  public func backward(accumulate: Bool = false) {
    let L = architecture.layerCount
    ActivationGrad.tanh(count: outputCount, y: output, dy: outputGradient, dx: buffers.scratchA)
    for i in stride(from: L - 1, through: 0, by: -1) {
      let x: UnsafePointer<Float> = i == 0 ? UnsafePointer(input) : UnsafePointer(buffers.act[i - 1])
      if i == 0 {
        Dense.backwardWeights(batch: batch, inFeatures: architecture.nz,
                              outFeatures: 16 * architecture.generatorChannels(0),
                              x: x, dy: buffers.scratchA, dw: weightGradients[0], accumulate: accumulate,
                              workspace: buffers.workspace, threads: threads)
      } else {
        Deconv4s2.backwardWeights(shape(i), x: x, dy: buffers.scratchA, dw: weightGradients[i], accumulate: accumulate,
                                  workspace: buffers.workspace, threads: threads)
        Deconv4s2.backwardData(shape(i), dy: buffers.scratchA, weights: weights[i], dx: buffers.scratchB,
                               workspace: buffers.workspace,
                               threads: threads)
        norms[i - 1].backward(x: buffers.pre[i - 1], y: buffers.act[i - 1], dy: buffers.scratchB, dx: buffers.scratchA,
                              parameterGradients: accumulate ? .accumulate : .overwrite)
      }
    }
  }
}

/// The DCGAN discriminator for a fixed batch size. Layer 0: conv + LeakyReLU(0.2) fused in the
/// epilogue; blocks: conv -> pre_i -> BN + LeakyReLU -> act_i; last: dense to one logit per image.
public final class Discriminator {
  public let architecture: Architecture
  public let batch: Int
  public let threads: Int
  public let parameters: ParameterSet
  /// One logit per image after `forward`.
  public let logits: UnsafeMutablePointer<Float>
  /// d(loss)/d(logits): fill before `backward`.
  public let logitGradient: UnsafeMutablePointer<Float>
  /// d(loss)/d(input) (batch, S, S, nc) after `backward(inputGradient: true)`.
  public let inputGradient: UnsafeMutablePointer<Float>

  private let arena: Arena
  private var lastInput: UnsafePointer<Float>?
  private let buffers: LayerBuffers
  /// Layer i's output after BatchNorm and ReLU (i < layerCount - 1), NHWC, after `forward`.
  public func activation(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(buffers.act[i]) }
  private let norms: [BatchNormLayer?]
  private let weights: [UnsafeMutablePointer<Float>]
  private let weightGradients: [UnsafeMutablePointer<Float>]
  public static let slope: Float = 0.2
  /// Per layer: the Winograd tile of its forward (a 2x2 correlation on the space-to-depth grid,
  /// BatchNorm statistics fused), or 0 for the direct 16-tap GEMM. All 0 unless built with `winograd`.
  public let forwardTiles: [Int]
  /// Per layer: the Winograd tile of its backward-data (a ConvTranspose2d(4, 2, 1) of the layer's
  /// output gradient), or 0 for the direct phase GEMMs. All 0 unless built with `winograd`.
  public let backwardDataTiles: [Int]

  /// winograd: run the forward and backward-data passes `AlgorithmPolicy` picks for training as
  /// Winograd (results differ from the direct kernels within ~1e-6 relative and stay independent
  /// of the thread count). forwardTiles, backwardDataTiles: per layer, a tile (2, 4) or 0 instead
  /// of the table's choice (tests, measurements).
  public init(architecture arch: Architecture, batch: Int, threads: Int, parameters: ParameterSet? = nil,
              winograd: Bool = false,
              forwardTiles chosenForward: [Int]? = nil, backwardDataTiles chosenTiles: [Int]? = nil) {
    precondition(batch > 0 && threads > 0)
    let params = parameters ?? ParameterSet(spec: arch.discriminatorSpec)
    self.architecture = arch
    self.batch = batch
    self.threads = threads
    self.parameters = params
    let spec = params.spec
    let L = arch.layerCount
    (weights, weightGradients) = params.convolutionViews
    // Output of layer i (< L-1): (batch, S >> (i+1), S >> (i+1), ndf << i).
    func elements(_ i: Int) -> Int { arch.discriminatorOutputElements(i, batch: batch) }
    func forwardShape(_ i: Int) -> ConvShape { arch.discriminatorConvolution(i, batch: batch) }
    func backwardDataShape(_ i: Int) -> ConvShape { arch.discriminatorBackwardData(i, batch: batch) }
    let inputElements = batch * arch.imageSize * arch.imageSize * arch.nc
    var ws = Dense.workspaceBytes(batch: batch, inFeatures: 16 * arch.discriminatorInputChannels(L - 1), outFeatures: 1,
                                  threads: threads)
    for i in 0..<(L - 1) { ws = max(ws, Conv4s2.workspaceBytes(forwardShape(i), threads: threads)) }
    let tiles = WinogradPass.tiles(.convolutionBackwardData, layerCount: L,
                                   shape: { $0 < L - 1 ? backwardDataShape($0) : nil },
                                   chosen: chosenTiles, winograd: winograd)
    let fTiles = WinogradPass.tiles(.convolutionForward, layerCount: L, shape: { $0 < L - 1 ? forwardShape($0) : nil },
                                    chosen: chosenForward, winograd: winograd)
    backwardDataTiles = tiles
    forwardTiles = fTiles
    var passes: [WinogradPass] = []
    for i in 0..<L where fTiles[i] > 0 {
      let f = forwardShape(i)
      passes.append(WinogradPass(layer: i, kind: .convolutionForward, tile: fTiles[i], inChannels: f.inChannels,
                                 outChannels: f.outChannels))
      ws = max(ws, WinogradConv4s2.workspaceBytes(tile: fTiles[i], f, threads: threads))
    }
    for i in 0..<L where tiles[i] > 0 {
      passes.append(WinogradPass(layer: i, kind: .convolutionBackwardData, tile: tiles[i],
                                 inChannels: arch.discriminatorInputChannels(i), outChannels: arch.discriminatorChannels(i)))
      ws = max(ws, WinogradDeconv4s2.workspaceBytes(tile: tiles[i], backwardDataShape(i), threads: threads))
    }
    let maxElements = max(inputElements, (0..<(L - 1)).map(elements).max()!)
    let workspaceBytes = ws
    let hidden = (0..<(L - 1)).map(elements)
    let built = Arena.build { a in
      (logits: a.floats(batch), logitGradient: a.floats(batch), inputGradient: a.floats(inputElements),
       // Layer 0's LeakyReLU is fused into its convolution: no separate pre-activation.
       buffers: LayerBuffers(arena: a, preElements: hidden.indices.map { $0 == 0 ? 0 : hidden[$0] },
                             actElements: hidden,
                             scratchElements: maxElements, workspaceBytes: workspaceBytes, winogradPasses: passes,
                             layerCount: L),
       norms: (0..<(L - 1)).map { i -> BatchNormLayer? in
         guard let bn = spec.bnIndex[i] else { return nil }
         return BatchNormLayer(rows: elements(i) / arch.discriminatorChannels(i),
                               channels: arch.discriminatorChannels(i),
                               activation: .leakyRelu(Discriminator.slope), arena: a, params: params, bnIndex: bn)
       })
    }
    arena = built.arena
    (logits, logitGradient, inputGradient, buffers, norms) = built.value
  }


  private func backwardData(_ i: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
    if backwardDataTiles[i] > 0 {
      let packed = buffers.winogradWeights.packed(.convolutionBackwardData, layer: i, parameters: parameters,
                                                  weights: weights,
                                          threads: threads)
      WinogradDeconv4s2.forward(tile: backwardDataTiles[i], architecture.discriminatorBackwardData(i, batch: batch),
                                x: dy, packedWeights: packed,
                                y: dx, workspace: buffers.workspace, threads: threads)
    } else {
      Conv4s2.backwardData(shape(i), dy: dy, weights: weights[i], dx: dx, workspace: buffers.workspace,
                           threads: threads)
    }
  }

  private func shape(_ i: Int) -> ConvShape { architecture.discriminatorConvolution(i, batch: batch) }

  private func convolution(_ i: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
    if forwardTiles[i] > 0 {
      let packed = buffers.winogradWeights.packed(.convolutionForward, layer: i, parameters: parameters,
                                                  weights: weights,
                                          threads: threads)
      WinogradConv4s2.forward(tile: forwardTiles[i], shape(i), x: x, packedWeights: packed, y: y, epilogue: epilogue,
                              workspace: buffers.workspace, threads: threads)
    } else {
      Conv4s2.forward(shape(i), x: x, weights: weights[i], y: y, epilogue: epilogue, workspace: buffers.workspace,
                      threads: threads)
    }
  }

  /// logits = D(images), images (batch, S, S, nc) NHWC; the pointer must stay valid until backward.
  public func forward(_ images: UnsafePointer<Float>, mode: NormalizationMode = .train) {
    lastInput = images
    let L = architecture.layerCount
    for i in 0..<L {
      let x: UnsafePointer<Float> = i == 0 ? images : UnsafePointer(buffers.act[i - 1])
      if i == L - 1 {
        Dense.forward(batch: batch, inFeatures: 16 * architecture.discriminatorInputChannels(i), outFeatures: 1,
                      x: x, weights: weights[i], y: logits, workspace: buffers.workspace, threads: threads)
      } else if let bn = norms[i] {
        convolution(i, x: x, y: buffers.pre[i], epilogue: mode == .eval ? .plain : bn.statisticsEpilogue())
        bn.forward(x: buffers.pre[i], y: buffers.act[i], mode: mode)
      } else {
        convolution(i, x: x, y: buffers.act[i], epilogue: Epilogue(activation: .leakyRelu(Discriminator.slope)))
      }
    }
  }

  /// Backward from `logitGradient` after a train-mode forward.
  /// weightGradients: compute parameter gradients (accumulating when `accumulate`);
  /// inputGradient: also compute d(loss)/d(images) into `inputGradient`.
  public func backward(weightGradients computeWeights: Bool = true, accumulate: Bool = false,
                       inputGradient computeInput: Bool = false) {
    guard let images = lastInput else { preconditionFailure("Discriminator.backward before forward") }
    let L = architecture.layerCount
    let cinLast = 16 * architecture.discriminatorInputChannels(L - 1)
    if computeWeights {
      Dense.backwardWeights(batch: batch, inFeatures: cinLast, outFeatures: 1, x: buffers.act[L - 2], dy: logitGradient,
                            dw: weightGradients[L - 1], accumulate: accumulate, workspace: buffers.workspace, threads: threads)
    }
    Dense.backwardData(batch: batch, inFeatures: cinLast, outFeatures: 1, dy: logitGradient, weights: weights[L - 1],
                       dx: buffers.scratchB, workspace: buffers.workspace, threads: threads)
    for i in stride(from: L - 2, through: 0, by: -1) {
      // buffers.scratchB holds d(loss)/d(act_i).
      let count = architecture.discriminatorOutputElements(i, batch: batch)
      if let bn = norms[i] {
        bn.backward(x: buffers.pre[i], y: buffers.act[i], dy: buffers.scratchB, dx: buffers.scratchA,
                    parameterGradients: !computeWeights ? .discard : (accumulate ? .accumulate : .overwrite))
      } else {
        ActivationGrad.leakyRelu(count: count, y: buffers.act[i], dy: buffers.scratchB, slope: Discriminator.slope,
                                 dx: buffers.scratchA)
      }
      let x: UnsafePointer<Float> = i == 0 ? images : UnsafePointer(buffers.act[i - 1])
      if computeWeights {
        Conv4s2.backwardWeights(shape(i), x: x, dy: buffers.scratchA, dw: weightGradients[i], accumulate: accumulate,
                                workspace: buffers.workspace, threads: threads)
      }
      if i > 0 {
        backwardData(i, dy: buffers.scratchA, dx: buffers.scratchB)
      } else if computeInput {
        backwardData(i, dy: buffers.scratchA, dx: inputGradient)
      }
    }
  }
}
