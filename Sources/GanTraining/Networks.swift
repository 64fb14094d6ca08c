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
  private let pre: [UnsafeMutablePointer<Float>]
  private let act: [UnsafeMutablePointer<Float>]
  /// Layer i's output after BatchNorm and ReLU (i < layerCount - 1), NHWC, after `forward`.
  public func activation(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(act[i]) }
  private let norms: [BatchNormLayer]
  private let scratchA: UnsafeMutablePointer<Float>
  private let scratchB: UnsafeMutablePointer<Float>
  private let workspace: UnsafeMutableRawPointer
  private let weights: [UnsafeMutablePointer<Float>]
  private let weightGradients: [UnsafeMutablePointer<Float>]
  /// The output layer (1 or 3 channels) runs the direct narrow kernel; its weights are repacked
  /// (16 * cin * nc floats) at every forward, since the optimizer changes them between passes.
  private let narrowPacked: UnsafeMutablePointer<Float>?
  /// Per layer: the Winograd tile of its forward (BatchNorm statistics fused), or 0 for the
  /// direct phase GEMMs. All 0 unless built with `winograd`; never the output layer.
  public let forwardTiles: [Int]
  private let winogradWeights: WinogradWeights

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

    func elements(_ i: Int) -> Int { batch * arch.generatorSize(i) * arch.generatorSize(i) * arch.generatorChannels(i) }
    var ws = Dense.workspaceBytes(batch: batch, inFeatures: arch.nz, outFeatures: 16 * arch.generatorChannels(0), threads: threads)
    for i in 1..<L {
      let s = arch.generatorSize(i - 1)
      ws = max(ws, Deconv4s2.workspaceBytes(ConvShape(batch: batch, height: s, width: s,
                                                      inChannels: arch.generatorInputChannels(i),
                                                      outChannels: arch.generatorChannels(i)), threads: threads))
    }
    func deconvShape(_ i: Int) -> ConvShape {
      let s = arch.generatorSize(i - 1)
      return ConvShape(batch: batch, height: s, width: s, inChannels: arch.generatorInputChannels(i), outChannels: arch.generatorChannels(i))
    }
    let tiles = WinogradPass.tiles(.deconvolutionForward, layerCount: L, shape: { $0 > 0 && $0 < L - 1 ? deconvShape($0) : nil },
                                   chosen: chosenTiles, winograd: winograd)
    forwardTiles = tiles
    let passes = (0..<L).filter { tiles[$0] > 0 }.map { i in
      WinogradPass(layer: i, kind: .deconvolutionForward, tile: tiles[i], inChannels: deconvShape(i).inChannels,
                   outChannels: deconvShape(i).outChannels)
    }
    for p in passes { ws = max(ws, WinogradDeconv4s2.workspaceBytes(tile: p.tile, deconvShape(p.layer), threads: threads)) }
    let maxElements = (0..<L).map(elements).max()!
    let workspaceBytes = ws
    let narrowCount = arch.nc <= NarrowDeconv4s2.maxOutChannels
      ? NarrowDeconv4s2.packedCount(inChannels: arch.generatorInputChannels(L - 1), outChannels: arch.nc) : 0
    let built = Arena.build { a -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                    [UnsafeMutablePointer<Float>], [UnsafeMutablePointer<Float>], [BatchNormLayer],
                                    UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutableRawPointer,
                                    UnsafeMutablePointer<Float>?, WinogradWeights) in
      let input = a.floats(batch * arch.nz)
      let output = a.floats(elements(L - 1))
      let outGrad = a.floats(elements(L - 1))
      let pre = (0..<(L - 1)).map { a.floats(elements($0)) }
      let act = (0..<(L - 1)).map { a.floats(elements($0)) }
      let norms = (0..<(L - 1)).map { i in
        BatchNormLayer(rows: batch * arch.generatorSize(i) * arch.generatorSize(i), channels: arch.generatorChannels(i),
                       activation: .relu, arena: a, params: params, bnIndex: spec.bnIndex[i]!,
                       positions: i == 0 ? 16 : 1)
      }
      return (input, output, outGrad, pre, act, norms, a.floats(maxElements), a.floats(maxElements), a.raw(workspaceBytes),
              narrowCount > 0 ? a.floats(narrowCount) : nil, WinogradWeights(passes: passes, layerCount: L, arena: a))
    }
    arena = built.arena
    (input, output, outputGradient, pre, act, norms, scratchA, scratchB, workspace, narrowPacked, winogradWeights) = built.value
  }

  private func shape(_ i: Int) -> ConvShape {
    let s = architecture.generatorSize(i - 1)
    return ConvShape(batch: batch, height: s, width: s, inChannels: architecture.generatorInputChannels(i),
                     outChannels: architecture.generatorChannels(i))
  }

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
      let x: UnsafePointer<Float> = i == 0 ? UnsafePointer(input) : UnsafePointer(act[i - 1])
      let y = last ? output : pre[i]
      let ep = last ? Epilogue(activation: .tanh) : (mode == .eval ? .plain : norms[i].statisticsEpilogue())
      if i == 0 {
        Dense.forward(batch: batch, inFeatures: architecture.nz, outFeatures: 16 * architecture.generatorChannels(0),
                      x: x, weights: weights[0], y: y, epilogue: ep, workspace: workspace, threads: threads)
      } else if last, let packed = narrowPacked {
        NarrowDeconv4s2.packWeights(inChannels: architecture.generatorInputChannels(i), outChannels: architecture.nc,
                                    weights: weights[i], into: packed)
        NarrowDeconv4s2.forward(shape(i), x: x, packedWeights: packed, bias: nil, activation: .tanh, y: y, threads: threads)
      } else if forwardTiles[i] > 0 {
        let packed = winogradWeights.packed(.deconvolutionForward, layer: i, parameters: parameters, weights: weights, threads: threads)
        WinogradDeconv4s2.forward(tile: forwardTiles[i], shape(i), x: x, packedWeights: packed, y: y,
                                  epilogue: ep, workspace: workspace, threads: threads)
      } else {
        Deconv4s2.forward(shape(i), x: x, weights: weights[i], y: y, epilogue: ep, workspace: workspace, threads: threads)
      }
      if !last {
        norms[i].forward(x: pre[i], y: act[i], mode: mode)
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
    ActivationGrad.tanh(count: outputCount, y: output, dy: outputGradient, dx: scratchA)
    for i in stride(from: L - 1, through: 0, by: -1) {
      let x: UnsafePointer<Float> = i == 0 ? UnsafePointer(input) : UnsafePointer(act[i - 1])
      if i == 0 {
        Dense.backwardWeights(batch: batch, inFeatures: architecture.nz, outFeatures: 16 * architecture.generatorChannels(0),
                              x: x, dy: scratchA, dw: weightGradients[0], accumulate: accumulate,
                              workspace: workspace, threads: threads)
      } else {
        Deconv4s2.backwardWeights(shape(i), x: x, dy: scratchA, dw: weightGradients[i], accumulate: accumulate,
                                  workspace: workspace, threads: threads)
        Deconv4s2.backwardData(shape(i), dy: scratchA, weights: weights[i], dx: scratchB, workspace: workspace,
                               threads: threads)
        norms[i - 1].backward(x: pre[i - 1], y: act[i - 1], dy: scratchB, dx: scratchA,
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
  private let pre: [UnsafeMutablePointer<Float>]
  private let act: [UnsafeMutablePointer<Float>]
  /// Layer i's output after BatchNorm and ReLU (i < layerCount - 1), NHWC, after `forward`.
  public func activation(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(act[i]) }
  private let norms: [BatchNormLayer?]
  private let scratchA: UnsafeMutablePointer<Float>
  private let scratchB: UnsafeMutablePointer<Float>
  private let workspace: UnsafeMutableRawPointer
  private let weights: [UnsafeMutablePointer<Float>]
  private let weightGradients: [UnsafeMutablePointer<Float>]
  public static let slope: Float = 0.2
  /// Per layer: the Winograd tile of its forward (a 2x2 correlation on the space-to-depth grid,
  /// BatchNorm statistics fused), or 0 for the direct 16-tap GEMM. All 0 unless built with `winograd`.
  public let forwardTiles: [Int]
  /// Per layer: the Winograd tile of its backward-data (a ConvTranspose2d(4, 2, 1) of the layer's
  /// output gradient), or 0 for the direct phase GEMMs. All 0 unless built with `winograd`.
  public let backwardDataTiles: [Int]
  private let winogradWeights: WinogradWeights

  /// winograd: run the forward and backward-data passes `AlgorithmPolicy` picks for training as
  /// Winograd (results differ from the direct kernels within ~1e-6 relative and stay independent
  /// of the thread count). forwardTiles, backwardDataTiles: per layer, a tile (2, 4) or 0 instead
  /// of the table's choice (tests, measurements).
  public init(architecture arch: Architecture, batch: Int, threads: Int, parameters: ParameterSet? = nil, winograd: Bool = false,
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
    func elements(_ i: Int) -> Int {
      let s = arch.imageSize >> (i + 1)
      return batch * s * s * arch.discriminatorChannels(i)
    }
    let inputElements = batch * arch.imageSize * arch.imageSize * arch.nc
    var ws = Dense.workspaceBytes(batch: batch, inFeatures: 16 * arch.discriminatorInputChannels(L - 1), outFeatures: 1, threads: threads)
    for i in 0..<(L - 1) {
      let s = arch.discriminatorInputSize(i)
      ws = max(ws, Conv4s2.workspaceBytes(ConvShape(batch: batch, height: s, width: s,
                                                    inChannels: arch.discriminatorInputChannels(i),
                                                    outChannels: arch.discriminatorChannels(i)), threads: threads))
    }
    // Backward-data of layer i as a transposed convolution: (S_i / 2) maps, cout_i -> cin_i channels.
    func backwardDataShape(_ i: Int) -> ConvShape {
      let s = arch.discriminatorInputSize(i) / 2
      return ConvShape(batch: batch, height: s, width: s, inChannels: arch.discriminatorChannels(i),
                       outChannels: arch.discriminatorInputChannels(i))
    }
    func forwardShape(_ i: Int) -> ConvShape {
      let s = arch.discriminatorInputSize(i)
      return ConvShape(batch: batch, height: s, width: s, inChannels: arch.discriminatorInputChannels(i),
                       outChannels: arch.discriminatorChannels(i))
    }
    let tiles = WinogradPass.tiles(.convolutionBackwardData, layerCount: L, shape: { $0 < L - 1 ? backwardDataShape($0) : nil },
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
    let built = Arena.build { a -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                    [UnsafeMutablePointer<Float>], [UnsafeMutablePointer<Float>], [BatchNormLayer?],
                                    UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutableRawPointer,
                                    WinogradWeights) in
      let logits = a.floats(batch)
      let lg = a.floats(batch)
      let ig = a.floats(inputElements)
      let pre = (0..<(L - 1)).map { a.floats($0 == 0 ? 0 : elements($0)) }
      let act = (0..<(L - 1)).map { a.floats(elements($0)) }
      let norms: [BatchNormLayer?] = (0..<(L - 1)).map { i in
        guard let bn = spec.bnIndex[i] else { return nil }
        let s = arch.imageSize >> (i + 1)
        return BatchNormLayer(rows: batch * s * s, channels: arch.discriminatorChannels(i),
                              activation: .leakyRelu(Discriminator.slope), arena: a, params: params, bnIndex: bn)
      }
      return (logits, lg, ig, pre, act, norms, a.floats(maxElements), a.floats(maxElements), a.raw(workspaceBytes),
              WinogradWeights(passes: passes, layerCount: L, arena: a))
    }
    arena = built.arena
    (logits, logitGradient, inputGradient, pre, act, norms, scratchA, scratchB, workspace, winogradWeights) = built.value
  }

  private func backwardDataShape(_ i: Int) -> ConvShape {
    let s = architecture.discriminatorInputSize(i) / 2
    return ConvShape(batch: batch, height: s, width: s, inChannels: architecture.discriminatorChannels(i),
                     outChannels: architecture.discriminatorInputChannels(i))
  }

  private func backwardData(_ i: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
    if backwardDataTiles[i] > 0 {
      let packed = winogradWeights.packed(.convolutionBackwardData, layer: i, parameters: parameters, weights: weights,
                                          threads: threads)
      WinogradDeconv4s2.forward(tile: backwardDataTiles[i], backwardDataShape(i), x: dy, packedWeights: packed,
                                y: dx, workspace: workspace, threads: threads)
    } else {
      Conv4s2.backwardData(shape(i), dy: dy, weights: weights[i], dx: dx, workspace: workspace, threads: threads)
    }
  }

  private func shape(_ i: Int) -> ConvShape {
    let s = architecture.discriminatorInputSize(i)
    return ConvShape(batch: batch, height: s, width: s, inChannels: architecture.discriminatorInputChannels(i),
                     outChannels: architecture.discriminatorChannels(i))
  }

  private func convolution(_ i: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
    if forwardTiles[i] > 0 {
      let packed = winogradWeights.packed(.convolutionForward, layer: i, parameters: parameters, weights: weights,
                                          threads: threads)
      WinogradConv4s2.forward(tile: forwardTiles[i], shape(i), x: x, packedWeights: packed, y: y, epilogue: epilogue,
                              workspace: workspace, threads: threads)
    } else {
      Conv4s2.forward(shape(i), x: x, weights: weights[i], y: y, epilogue: epilogue, workspace: workspace, threads: threads)
    }
  }

  /// logits = D(images), images (batch, S, S, nc) NHWC; the pointer must stay valid until backward.
  public func forward(_ images: UnsafePointer<Float>, mode: NormalizationMode = .train) {
    lastInput = images
    let L = architecture.layerCount
    for i in 0..<L {
      let x: UnsafePointer<Float> = i == 0 ? images : UnsafePointer(act[i - 1])
      if i == L - 1 {
        Dense.forward(batch: batch, inFeatures: 16 * architecture.discriminatorInputChannels(i), outFeatures: 1,
                      x: x, weights: weights[i], y: logits, workspace: workspace, threads: threads)
      } else if let bn = norms[i] {
        convolution(i, x: x, y: pre[i], epilogue: mode == .eval ? .plain : bn.statisticsEpilogue())
        bn.forward(x: pre[i], y: act[i], mode: mode)
      } else {
        convolution(i, x: x, y: act[i], epilogue: Epilogue(activation: .leakyRelu(Discriminator.slope)))
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
      Dense.backwardWeights(batch: batch, inFeatures: cinLast, outFeatures: 1, x: act[L - 2], dy: logitGradient,
                            dw: weightGradients[L - 1], accumulate: accumulate, workspace: workspace, threads: threads)
    }
    Dense.backwardData(batch: batch, inFeatures: cinLast, outFeatures: 1, dy: logitGradient, weights: weights[L - 1],
                       dx: scratchB, workspace: workspace, threads: threads)
    for i in stride(from: L - 2, through: 0, by: -1) {
      // scratchB holds d(loss)/d(act_i).
      let count = batch * (architecture.imageSize >> (i + 1)) * (architecture.imageSize >> (i + 1)) * architecture.discriminatorChannels(i)
      if let bn = norms[i] {
        bn.backward(x: pre[i], y: act[i], dy: scratchB, dx: scratchA,
                    parameterGradients: !computeWeights ? .discard : (accumulate ? .accumulate : .overwrite))
      } else {
        ActivationGrad.leakyRelu(count: count, y: act[i], dy: scratchB, slope: Discriminator.slope, dx: scratchA)
      }
      let x: UnsafePointer<Float> = i == 0 ? images : UnsafePointer(act[i - 1])
      if computeWeights {
        Conv4s2.backwardWeights(shape(i), x: x, dy: scratchA, dw: weightGradients[i], accumulate: accumulate,
                                workspace: workspace, threads: threads)
      }
      if i > 0 {
        backwardData(i, dy: scratchA, dx: scratchB)
      } else if computeInput {
        backwardData(i, dy: scratchA, dx: inputGradient)
      }
    }
  }
}
