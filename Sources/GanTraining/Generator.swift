import GanKernels
import GanModel

/// How a forward pass treats BatchNorm (and spectral norm).
public enum NormalizationMode: Sendable, Equatable {
  /// Batch statistics; running statistics updated (PyTorch train mode); spectral norm runs its
  /// power iteration.
  case train
  /// Running statistics (PyTorch eval mode).
  case eval
  /// Batch statistics without touching the running statistics (sample grids during training).
  case batchStatistics
  /// Batch statistics, accumulated into the running statistics with `momentum` (re-estimation
  /// before export: momentum 1/(p+1) at pass p is PyTorch's momentum=None cumulative average).
  case accumulate(momentum: Float)

  /// Only training-mode forwards change spectral norm's u and v (as PyTorch's train mode); every
  /// other pass normalizes with the stored ones (eval mode's arithmetic).
  var powerIteration: Bool { self == .train }
}

/// The generator for a fixed batch size (DCGAN, or SAGAN: spectral norm, conditional BatchNorm,
/// self-attention): parameters in a ParameterSet, activations and scratch in one arena, every pass
/// over preallocated buffers (no allocation after init).
///
/// Activations are NHWC. Layer i: x_i -> conv -> pre_i -> BN + ReLU -> act_i (all but the last),
/// then the attention block where there is one (its output is x_{i+1}); the last layer's epilogue
/// applies tanh and writes `output` (batch, S, S, nc). With spectral norm every forward writes
/// W / sigma into the layer's own buffer and the kernels use that.
public final class Generator {
  public let architecture: Architecture
  public let batch: Int
  public let threads: Int
  public let parameters: ParameterSet
  /// Latents (batch, nz): fill before `forward`.
  public let input: UnsafeMutablePointer<Float>
  /// Class of each image (batch), 0 ..< classes: fill before `forward` (conditional models).
  public let labels: UnsafeMutablePointer<Int32>
  /// Images (batch, S, S, nc) in [-1, 1], NHWC.
  public let output: UnsafeMutablePointer<Float>
  /// d(loss)/d(output): fill before `backward`.
  public let outputGradient: UnsafeMutablePointer<Float>

  private let arena: Arena
  private let buffers: LayerBuffers
  private let norms: [BatchNormLayer]
  private let weights: [UnsafeMutablePointer<Float>]
  private let weightGradients: [UnsafeMutablePointer<Float>]
  /// Per layer: its spectral norm (SAGAN, all but the output layer), or nil.
  private let spectral: [SpectralNormLayer?]
  private let attention: AttentionLayer?
  /// The output layer (1 or 3 channels) runs the direct narrow kernel; its weights are repacked
  /// (16 * cin * nc floats) at every forward, since the optimizer changes them between passes.
  private let narrowPacked: UnsafeMutablePointer<Float>?
  /// Per layer: the Winograd tile of its forward (BatchNorm statistics fused), or 0 for the
  /// direct phase GEMMs. All 0 unless built with `winograd` (never for SAGAN); never the output layer.
  public let forwardTiles: [Int]

  public var outputCount: Int { batch * architecture.imageSize * architecture.imageSize * architecture.nc }

  /// The input of layer i + 1 after `forward`: layer i's output after BatchNorm and ReLU, or
  /// after the attention block that follows it (i < layerCount - 1), NHWC.
  public func activation(_ i: Int) -> UnsafePointer<Float> { layerInput(i + 1) }

  /// winograd: the hidden deconvolutions `AlgorithmPolicy` picks run as Winograd (results differ
  /// from the direct kernels within rounding, and stay independent of the thread count); DCGAN only.
  /// forwardTiles: per layer a tile (2, 4) or 0 instead of the table's choice (tests, measurements).
  /// communicator: the ranks of a data-parallel run (synchronized BatchNorm); nil: this process.
  public init(architecture arch: Architecture, batch: Int, threads: Int, parameters: ParameterSet? = nil,
              winograd: Bool = false, forwardTiles chosenTiles: [Int]? = nil, communicator: Communicator? = nil) {
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
                                   chosen: arch.isSAGAN ? nil : chosenTiles, winograd: winograd && !arch.isSAGAN)
    forwardTiles = tiles
    let passes = (0..<L).filter { tiles[$0] > 0 }.map { i in
      WinogradPass(layer: i, kind: .deconvolutionForward, tile: tiles[i], inChannels: deconvShape(i).inChannels,
                   outChannels: deconvShape(i).outChannels)
    }
    for p in passes { ws = max(ws, WinogradDeconv4s2.workspaceBytes(tile: p.tile, deconvShape(p.layer),
                                                                    threads: threads)) }
    let attentionSpec = spec.attention
    let positions = attentionSpec.map { arch.generatorSize($0.layer) * arch.generatorSize($0.layer) } ?? 0
    if let s = attentionSpec {
      ws = max(ws, AttentionLayer.workspaceBytes(AttentionShape(batch: batch, positions: positions,
                                                                keyChannels: s.keyChannels, valueChannels: s.channels),
                                                 threads: threads))
    }
    let maxElements = (0..<L).map(elements).max()!
    let workspaceBytes = ws
    let narrowCount = arch.nc <= NarrowDeconv4s2.maxOutChannels
      ? NarrowDeconv4s2.packedCount(inChannels: arch.generatorInputChannels(L - 1), outChannels: arch.nc) : 0
    let hidden = (0..<(L - 1)).map(elements)
    let snScratch = spec.spectralNorms.map { spec.parameter(named: $0.weight)!.count }.max() ?? 0
    typealias Views = (input: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>,
                       output: UnsafeMutablePointer<Float>, outputGradient: UnsafeMutablePointer<Float>,
                       buffers: LayerBuffers, norms: [BatchNormLayer], spectral: [SpectralNormLayer?],
                       attention: AttentionLayer?, narrowPacked: UnsafeMutablePointer<Float>?)
    let built = Arena.build { (a: Arena) -> Views in
      let labels = a.raw(batch * 4).bindMemory(to: Int32.self, capacity: batch)
      let buffers = LayerBuffers(arena: a, preElements: hidden, actElements: hidden, scratchElements: maxElements,
                                 workspaceBytes: workspaceBytes, winogradPasses: passes, layerCount: L)
      let gradientScratch = a.floats(snScratch)
      let spectral = spec.convNames.map { (name: String) -> SpectralNormLayer? in
        spec.spectralNorm(of: name).map { SpectralNormLayer($0, params: params, arena: a,
                                                            gradientScratch: gradientScratch) }
      }
      let attention = attentionSpec.map { (s: AttentionSpec) -> AttentionLayer in
        AttentionLayer(s, batch: batch, positions: positions, params: params, arena: a, gradientScratch: gradientScratch,
                       workspace: buffers.workspace, threads: threads)
      }
      let norms = (0..<(L - 1)).map { (i: Int) -> BatchNormLayer in
        BatchNormLayer(rows: elements(i) / arch.generatorChannels(i), channels: arch.generatorChannels(i),
                       activation: .relu, arena: a, params: params, names: spec.norms[i]!, positions: i == 0 ? 16 : 1,
                       images: batch, classes: arch.classes, labels: UnsafePointer(labels), communicator: communicator)
      }
      return (input: a.floats(batch * arch.nz), labels: labels, output: a.floats(elements(L - 1)),
              outputGradient: a.floats(elements(L - 1)), buffers: buffers, norms: norms, spectral: spectral,
              attention: attention, narrowPacked: narrowCount > 0 ? a.floats(narrowCount) : nil)
    }
    arena = built.arena
    (input, labels, output, outputGradient, buffers, norms, spectral, attention, narrowPacked) = built.value
  }

  private func shape(_ i: Int) -> ConvShape { architecture.generatorDeconvolution(i, batch: batch) }

  /// Layer i's input: the latents, or the previous layer's activation (after its attention block).
  private func layerInput(_ i: Int) -> UnsafePointer<Float> {
    if i == 0 { return UnsafePointer(input) }
    if let a = attention, a.layer == i - 1 { return UnsafePointer(a.output) }
    return UnsafePointer(buffers.act[i - 1])
  }

  /// The weight layer i's kernels use: W / sigma (after its spectral norm's forward) or W.
  private func kernelWeights(_ i: Int) -> UnsafeMutablePointer<Float> { spectral[i]?.normalized ?? weights[i] }

  /// output = G(input, labels).
  public func forward(mode: NormalizationMode = .train) {
    forward(layers: architecture.layerCount, mode: mode)
  }

  /// The first `layers` layers of the forward pass (all of them, or all but the output layer
  /// for BatchNorm re-estimation).
  private func forward(layers: Int, mode: NormalizationMode) {
    let L = architecture.layerCount
    for i in 0..<layers {
      let last = i == L - 1
      let x = layerInput(i)
      spectral[i]?.forward(powerIteration: mode.powerIteration)
      let w = kernelWeights(i)
      let y = last ? output : buffers.pre[i]
      let ep = last ? Epilogue(activation: .tanh) : (mode == .eval ? .plain : norms[i].statisticsEpilogue())
      if i == 0 {
        Dense.forward(batch: batch, inFeatures: architecture.nz, outFeatures: 16 * architecture.generatorChannels(0),
                      x: x, weights: w, y: y, epilogue: ep, workspace: buffers.workspace, threads: threads)
      } else if last, let packed = narrowPacked {
        NarrowDeconv4s2.packWeights(inChannels: architecture.generatorInputChannels(i), outChannels: architecture.nc,
                                    weights: w, into: packed)
        NarrowDeconv4s2.forward(shape(i), x: x, packedWeights: packed, bias: nil, activation: .tanh, y: y,
                                threads: threads)
      } else if forwardTiles[i] > 0 {
        let packed = buffers.winogradWeights.packed(.deconvolutionForward, layer: i, parameters: parameters,
                                                    weights: weights, threads: threads)
        WinogradDeconv4s2.forward(tile: forwardTiles[i], shape(i), x: x, packedWeights: packed, y: y,
                                  epilogue: ep, workspace: buffers.workspace, threads: threads)
      } else {
        Deconv4s2.forward(shape(i), x: x, weights: w, y: y, epilogue: ep, workspace: buffers.workspace,
                          threads: threads)
      }
      if !last {
        norms[i].forward(x: buffers.pre[i], y: buffers.act[i], mode: mode)
        if let a = attention, a.layer == i { a.forward(buffers.act[i], powerIteration: mode.powerIteration) }
      }
    }
  }

  /// BatchNorm running statistics re-estimated from `passes` batches drawn by `fillLatents` (which
  /// also fills `labels` for conditional models; cumulative average, as PyTorch with
  /// momentum=None): used before export, since eval mode with drifted running statistics is a
  /// known source of broken DCGAN output. Spectral norm's u and v stay as they are.
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
    let mode: ParameterGradientMode = accumulate ? .accumulate : .overwrite
    // g: d(loss)/d(pre_i) of the layer at hand; the other scratch buffer takes its input gradient.
    var g = buffers.scratchA
    func other(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
      p == buffers.scratchA ? buffers.scratchB : buffers.scratchA
    }
    ActivationGrad.tanh(count: outputCount, y: output, dy: outputGradient, dx: g)
    for i in stride(from: L - 1, through: 0, by: -1) {
      let x = layerInput(i)
      // With spectral norm the kernels produce d(W_sn), which the norm's backward turns into d(W).
      let dw = spectral[i]?.normalizedGradient ?? weightGradients[i]
      let add = spectral[i] == nil && accumulate
      if i == 0 {
        Dense.backwardWeights(batch: batch, inFeatures: architecture.nz,
                              outFeatures: 16 * architecture.generatorChannels(0),
                              x: x, dy: g, dw: dw, accumulate: add, workspace: buffers.workspace, threads: threads)
        spectral[i]?.backward(accumulate: accumulate)
        continue
      }
      Deconv4s2.backwardWeights(shape(i), x: x, dy: g, dw: dw, accumulate: add, workspace: buffers.workspace,
                                threads: threads)
      spectral[i]?.backward(accumulate: accumulate)
      var dAct = other(g)
      Deconv4s2.backwardData(shape(i), dy: g, weights: kernelWeights(i), dx: dAct, workspace: buffers.workspace,
                             threads: threads)
      if let a = attention, a.layer == i - 1 {
        a.backward(buffers.act[i - 1], dy: dAct, dx: g, mode: mode)
        dAct = g
      }
      g = other(dAct)
      norms[i - 1].backward(x: buffers.pre[i - 1], y: buffers.act[i - 1], dy: dAct, dx: g,
                            parameterGradients: accumulate ? .accumulate : .overwrite)
    }
  }
}
