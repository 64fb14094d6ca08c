import GanKernels
import GanModel

/// The discriminator for a fixed batch size. DCGAN: layer 0 conv + LeakyReLU(0.2) fused in the
/// epilogue; blocks conv -> pre_i -> BN + LeakyReLU -> act_i; last: dense to one logit per image.
/// SAGAN: every conv with spectral norm and LeakyReLU(0.1) fused, no BatchNorm, the attention
/// block after the layer `architecture.discriminatorAttentionLayer`, and for conditional models
/// the projection head: logit += <embed(label), sum over positions of the last 4x4 map>.
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
  /// Class of each image (batch), 0 ..< classes: fill before `forward` (conditional models).
  public let labels: UnsafeMutablePointer<Int32>

  private let arena: Arena
  private var lastInput: UnsafePointer<Float>?
  private let buffers: LayerBuffers
  /// Layer i's output after BatchNorm and LeakyReLU (i < layerCount - 1), NHWC, after `forward`.
  public func activation(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(buffers.act[i]) }
  private let norms: [BatchNormLayer?]
  private let weights: [UnsafeMutablePointer<Float>]
  private let weightGradients: [UnsafeMutablePointer<Float>]
  /// Per layer (the head included): its spectral norm (SAGAN), or nil.
  private let spectral: [SpectralNormLayer?]
  /// The projection head's embedding (classes x C, spectral norm) and where its gradient goes
  /// when parameter gradients are not wanted.
  private let embedding: SpectralNormLayer?
  private let embeddingDiscard: UnsafeMutablePointer<Float>
  private let attention: AttentionLayer?
  /// WGAN-GP's double-backward buffers (a critic built with `gradientPenalty`).
  private let penalty: PenaltyBuffers?
  /// LeakyReLU's negative slope: 0.2 (DCGAN), 0.1 (SAGAN).
  public let slope: Float
  /// Per layer: the Winograd tile of its forward (a 2x2 correlation on the space-to-depth grid,
  /// BatchNorm statistics fused), or 0 for the direct 16-tap GEMM. All 0 unless built with `winograd`.
  public let forwardTiles: [Int]
  /// Per layer: the Winograd tile of its backward-data (a ConvTranspose2d(4, 2, 1) of the layer's
  /// output gradient), or 0 for the direct phase GEMMs. All 0 unless built with `winograd`.
  public let backwardDataTiles: [Int]

  /// winograd: run the forward and backward-data passes `AlgorithmPolicy` picks for training as
  /// Winograd (results differ from the direct kernels within ~1e-6 relative and stay independent
  /// of the thread count); DCGAN only. forwardTiles, backwardDataTiles: per layer, a tile (2, 4)
  /// or 0 instead of the table's choice (tests, measurements).
  /// communicator: the ranks of a data-parallel run (synchronized BatchNorm); nil: this process.
  /// gradientPenalty: buffers for `penaltyBackward` (WGAN-GP; the critic must have no BatchNorm).
  public init(architecture arch: Architecture, batch: Int, threads: Int, parameters: ParameterSet? = nil,
              winograd: Bool = false,
              forwardTiles chosenForward: [Int]? = nil, backwardDataTiles chosenTiles: [Int]? = nil,
              communicator: Communicator? = nil, gradientPenalty: Bool = false) {
    precondition(batch > 0 && threads > 0)
    let params = parameters ?? ParameterSet(spec: arch.discriminatorSpec)
    self.architecture = arch
    self.batch = batch
    self.threads = threads
    self.parameters = params
    slope = arch.discriminatorSlope
    let spec = params.spec
    let L = arch.layerCount
    let useWinograd = winograd && !arch.isSAGAN
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
                                   chosen: arch.isSAGAN ? nil : chosenTiles, winograd: useWinograd)
    let fTiles = WinogradPass.tiles(.convolutionForward, layerCount: L, shape: { $0 < L - 1 ? forwardShape($0) : nil },
                                    chosen: arch.isSAGAN ? nil : chosenForward, winograd: useWinograd)
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
    let attentionSpec = spec.attention
    let positions = attentionSpec.map { s in
      let side = arch.discriminatorInputSize(s.layer) / 2
      return side * side
    } ?? 0
    if let s = attentionSpec {
      ws = max(ws, AttentionLayer.workspaceBytes(AttentionShape(batch: batch, positions: positions,
                                                                keyChannels: s.keyChannels, valueChannels: s.channels),
                                                 threads: threads, doubleBackward: gradientPenalty))
    }
    precondition(!gradientPenalty || spec.norms.allSatisfy { $0 == nil }, "WGAN-GP critics have no BatchNorm")
    let maxElements = max(inputElements, (0..<(L - 1)).map(elements).max()!)
    let workspaceBytes = ws
    let hidden = (0..<(L - 1)).map(elements)
    let snScratch = spec.spectralNorms.map { spec.parameter(named: $0.weight)!.count }.max() ?? 0
    let embedCount = arch.isConditional ? arch.classes * arch.discriminatorInputChannels(L - 1) : 0
    let leaky = slope
    typealias Views = (logits: UnsafeMutablePointer<Float>, logitGradient: UnsafeMutablePointer<Float>,
                       inputGradient: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>,
                       buffers: LayerBuffers, norms: [BatchNormLayer?], spectral: [SpectralNormLayer?],
                       embedding: SpectralNormLayer?, embeddingDiscard: UnsafeMutablePointer<Float>,
                       attention: AttentionLayer?, penalty: PenaltyBuffers?)
    let built = Arena.build { (a: Arena) -> Views in
      let labels = a.raw(batch * 4).bindMemory(to: Int32.self, capacity: batch)
      // Layer 0's LeakyReLU (every layer's without BatchNorm) is fused into its convolution: no
      // separate pre-activation.
      let pre: [Int] = hidden.indices.map { (i: Int) -> Int in spec.norms[i] == nil ? 0 : hidden[i] }
      let buffers = LayerBuffers(arena: a, preElements: pre,
                                 actElements: hidden, scratchElements: maxElements, workspaceBytes: workspaceBytes,
                                 winogradPasses: passes, layerCount: L)
      let gradientScratch = a.floats(snScratch)
      let spectral = spec.convNames.map { (name: String) -> SpectralNormLayer? in
        spec.spectralNorm(of: name).map { SpectralNormLayer($0, params: params, arena: a,
                                                            gradientScratch: gradientScratch) }
      }
      let embedding = spec.spectralNorm(of: "embed.weight_orig").map { (s: SpectralNormSpec) -> SpectralNormLayer in
        SpectralNormLayer(s, params: params, arena: a, gradientScratch: gradientScratch)
      }
      let attention = attentionSpec.map { (s: AttentionSpec) -> AttentionLayer in
        AttentionLayer(s, batch: batch, positions: positions, params: params, arena: a, gradientScratch: gradientScratch,
                       workspace: buffers.workspace, threads: threads, doubleBackward: gradientPenalty)
      }
      let penalty = gradientPenalty ? PenaltyBuffers(
        tape: hidden.map { a.floats($0) }, adjoints: (0..<3).map { _ in a.floats(maxElements) },
        attentionAdjoint: attentionSpec.map { a.floats(hidden[$0.layer]) }) : nil
      let norms = (0..<(L - 1)).map { i -> BatchNormLayer? in
        guard let names = spec.norms[i] else { return nil }
        return BatchNormLayer(rows: elements(i) / arch.discriminatorChannels(i), channels: arch.discriminatorChannels(i),
                              activation: .leakyRelu(leaky), arena: a, params: params, names: names,
                              communicator: communicator)
      }
      return (logits: a.floats(batch), logitGradient: a.floats(batch), inputGradient: a.floats(inputElements),
              labels: labels, buffers: buffers, norms: norms, spectral: spectral, embedding: embedding,
              embeddingDiscard: a.floats(embedCount), attention: attention, penalty: penalty)
    }
    arena = built.arena
    (logits, logitGradient, inputGradient, labels, buffers, norms, spectral, embedding, embeddingDiscard,
     attention, penalty) = built.value
  }

  private func backwardData(_ i: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
    if backwardDataTiles[i] > 0 {
      let packed = buffers.winogradWeights.packed(.convolutionBackwardData, layer: i, parameters: parameters,
                                                  weights: weights, threads: threads)
      WinogradDeconv4s2.forward(tile: backwardDataTiles[i], architecture.discriminatorBackwardData(i, batch: batch),
                                x: dy, packedWeights: packed, y: dx, workspace: buffers.workspace, threads: threads)
    } else {
      Conv4s2.backwardData(shape(i), dy: dy, weights: kernelWeights(i), dx: dx, workspace: buffers.workspace,
                           threads: threads)
    }
  }

  private func shape(_ i: Int) -> ConvShape { architecture.discriminatorConvolution(i, batch: batch) }

  /// The weight layer i's kernels use: W / sigma (after its spectral norm's forward) or W.
  private func kernelWeights(_ i: Int) -> UnsafeMutablePointer<Float> { spectral[i]?.normalized ?? weights[i] }

  /// Layer i's input: the images, or the previous layer's activation (after its attention block).
  private func layerInput(_ i: Int, _ images: UnsafePointer<Float>) -> UnsafePointer<Float> {
    if i == 0 { return images }
    if let a = attention, a.layer == i - 1 { return UnsafePointer(a.output) }
    return UnsafePointer(buffers.act[i - 1])
  }

  private func convolution(_ i: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
    if forwardTiles[i] > 0 {
      let packed = buffers.winogradWeights.packed(.convolutionForward, layer: i, parameters: parameters,
                                                  weights: weights, threads: threads)
      WinogradConv4s2.forward(tile: forwardTiles[i], shape(i), x: x, packedWeights: packed, y: y, epilogue: epilogue,
                              workspace: buffers.workspace, threads: threads)
    } else {
      Conv4s2.forward(shape(i), x: x, weights: kernelWeights(i), y: y, epilogue: epilogue,
                      workspace: buffers.workspace, threads: threads)
    }
  }

  /// logits = D(images, labels), images (batch, S, S, nc) NHWC; the pointer must stay valid until
  /// backward.
  public func forward(_ images: UnsafePointer<Float>, mode: NormalizationMode = .train) {
    lastInput = images
    let L = architecture.layerCount
    for i in 0..<L {
      let x = layerInput(i, images)
      spectral[i]?.forward(powerIteration: mode.powerIteration)
      if i == L - 1 {
        let c = architecture.discriminatorInputChannels(i)
        Dense.forward(batch: batch, inFeatures: 16 * c, outFeatures: 1, x: x, weights: kernelWeights(i), y: logits,
                      workspace: buffers.workspace, threads: threads)
        if let e = embedding {
          e.forward(powerIteration: mode.powerIteration)
          ProjectionHead.forward(images: batch, positions: 16, channels: c, labels: labels, h: x, embed: e.normalized,
                                 logit: logits)
        }
      } else if let bn = norms[i] {
        convolution(i, x: x, y: buffers.pre[i], epilogue: mode == .eval ? .plain : bn.statisticsEpilogue())
        bn.forward(x: buffers.pre[i], y: buffers.act[i], mode: mode)
      } else {
        convolution(i, x: x, y: buffers.act[i], epilogue: Epilogue(activation: .leakyRelu(slope)))
      }
      if let a = attention, a.layer == i { a.forward(buffers.act[i], powerIteration: mode.powerIteration) }
    }
  }

  /// Backward from `logitGradient` after a train-mode forward.
  /// weightGradients: compute parameter gradients (accumulating when `accumulate`);
  /// inputGradient: also compute d(loss)/d(images) into `inputGradient`.
  public func backward(weightGradients computeWeights: Bool = true, accumulate: Bool = false,
                       inputGradient computeInput: Bool = false) {
    backward(weightGradients: computeWeights, accumulate: accumulate, inputGradient: computeInput, tape: false)
  }

  /// tape: keep each layer's d(loss)/d(pre) and the attention block's upstream gradient for
  /// `penaltyBackward`'s double backward.
  private func backward(weightGradients computeWeights: Bool, accumulate: Bool, inputGradient computeInput: Bool,
                        tape: Bool) {
    guard let images = lastInput else { preconditionFailure("Discriminator.backward before forward") }
    let L = architecture.layerCount
    let c = architecture.discriminatorInputChannels(L - 1)
    let h = layerInput(L - 1, images)
    if computeWeights {
      let (dw, add) = weightGradient(L - 1, accumulate: accumulate)
      Dense.backwardWeights(batch: batch, inFeatures: 16 * c, outFeatures: 1, x: h, dy: logitGradient, dw: dw,
                            accumulate: add, workspace: buffers.workspace, threads: threads)
      spectral[L - 1]?.backward(accumulate: accumulate)
    }
    let d = buffers.scratchB
    Dense.backwardData(batch: batch, inFeatures: 16 * c, outFeatures: 1, dy: logitGradient, weights: kernelWeights(L - 1),
                       dx: d, workspace: buffers.workspace, threads: threads)
    if let e = embedding {
      let dEmbed = computeWeights ? e.normalizedGradient : embeddingDiscard
      dEmbed.update(repeating: 0, count: e.count)
      ProjectionHead.backward(images: batch, positions: 16, channels: c, labels: labels, h: h, embed: e.normalized,
                              dlogit: logitGradient, dh: d, accumulate: true, dembed: dEmbed)
      if computeWeights { e.backward(accumulate: accumulate) }
    }
    backwardLayers(from: L - 2, gradient: d, throughAttention: true, images: images, weightGradients: computeWeights,
                   accumulate: accumulate, inputGradient: computeInput, tape: tape)
  }

  /// With spectral norm the kernels produce d(W_sn), which the norm's backward turns into d(W).
  private func weightGradient(_ i: Int, accumulate: Bool) -> (UnsafeMutablePointer<Float>, Bool) {
    (spectral[i]?.normalizedGradient ?? weightGradients[i], spectral[i] == nil && accumulate)
  }

  /// Layers `top` ... 0 of the backward pass. `gradient` holds d(loss)/d(input of layer top + 1),
  /// or with throughAttention false d(loss)/d(act_top) (before any attention block after it).
  private func backwardLayers(from top: Int, gradient: UnsafeMutablePointer<Float>, throughAttention: Bool,
                              images: UnsafePointer<Float>, weightGradients computeWeights: Bool, accumulate: Bool,
                              inputGradient computeInput: Bool, tape: Bool) {
    let mode: ParameterGradientMode = !computeWeights ? .discard : (accumulate ? .accumulate : .overwrite)
    // d: d(loss)/d(input of the layer above); the other scratch buffer takes the next gradient.
    var d = gradient
    func other(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
      p == buffers.scratchA ? buffers.scratchB : buffers.scratchA
    }
    for i in stride(from: top, through: 0, by: -1) {
      if let a = attention, a.layer == i, throughAttention || i < top {
        a.backward(buffers.act[i], dy: d, dx: other(d), mode: mode, keepUpstream: tape)
        d = other(d)
      }
      // d holds d(loss)/d(act_i); g takes d(loss)/d(pre_i).
      let g = other(d)
      let count = architecture.discriminatorOutputElements(i, batch: batch)
      if let bn = norms[i] {
        bn.backward(x: buffers.pre[i], y: buffers.act[i], dy: d, dx: g,
                    parameterGradients: mode)
      } else {
        ActivationGrad.leakyRelu(count: count, y: buffers.act[i], dy: d, slope: slope, dx: g)
      }
      if tape, let t = penalty?.tape[i] { t.update(from: g, count: count) }
      let x = layerInput(i, images)
      if computeWeights {
        let (dw, add) = weightGradient(i, accumulate: accumulate)
        Conv4s2.backwardWeights(shape(i), x: x, dy: g, dw: dw, accumulate: add, workspace: buffers.workspace,
                                threads: threads)
        spectral[i]?.backward(accumulate: accumulate)
      }
      if i > 0 {
        backwardData(i, dy: g, dx: other(g))
        d = other(g)
      } else if computeInput {
        backwardData(i, dy: g, dx: inputGradient)
      }
    }
  }

  // MARK: - WGAN-GP: the gradient penalty and its exact double backward

  /// WGAN-GP's gradient penalty on `images` (the mixes): lambda / n * sum_i (||d D(x_i) / d x_i|| - 1)^2
  /// over this batch, differentiated exactly with respect to every parameter (a double backward:
  /// the first backward's per-layer gradients are kept, their adjoints run forward through the
  /// transposed convolutions and the attention block's double backward, then the adjoint of the
  /// attention's input back down the forward pass) and added to the gradients. Runs a
  /// training-mode forward (spectral norm's power iteration) and needs a critic built with
  /// `gradientPenalty` (no BatchNorm). gradientScale multiplies the gradients only (a data-parallel
  /// rank's share of the batch). Returns the penalty.
  /// powerIteration false: spectral norm with the stored u and v (tests: the penalty is then a
  /// fixed function of the parameters, whose derivative central differences can check).
  public func penaltyBackward(_ images: UnsafePointer<Float>, lambda: Float, gradientScale: Float = 1,
                              powerIteration: Bool = true) -> Double {
    guard let p = penalty else { preconditionFailure("Discriminator.penaltyBackward: built without gradientPenalty") }
    let L = architecture.layerCount, a = architecture
    // Without BatchNorm, batchStatistics differs from train only in leaving u and v alone.
    forward(images, mode: powerIteration ? .train : .batchStatistics)
    logitGradient.update(repeating: 1, count: batch)
    backward(weightGradients: false, accumulate: false, inputGradient: true, tape: true)
    let per = a.imageSize * a.imageSize * a.nc
    let value = WassersteinPasses.gradientPenalty(samples: batch, per: per, g: inputGradient,
                                                  lambda: lambda * gradientScale, v: p.adjoints[0], norms: nil)
    // The first backward read forward: g_{i-1} = conv_i^T(g_i) etc.; its adjoints run the other way.
    var gbar = p.adjoints[0]
    func spare(_ used: UnsafeMutablePointer<Float>...) -> UnsafeMutablePointer<Float> {
      p.adjoints.first { q in !used.contains(q) }!
    }
    for i in 0..<(L - 1) {
      let (dw, add) = weightGradient(i, accumulate: true)
      Conv4s2.backwardWeights(shape(i), x: gbar, dy: p.tape[i], dw: dw, accumulate: add, workspace: buffers.workspace,
                              threads: threads)
      spectral[i]?.backward(accumulate: true)
      let zbar = spare(gbar)
      Conv4s2.forward(shape(i), x: gbar, weights: kernelWeights(i), y: zbar, workspace: buffers.workspace,
                      threads: threads)
      // LeakyReLU's second derivative is 0: its mask passes the adjoint on.
      let hbar = spare(gbar, zbar)
      ActivationGrad.leakyRelu(count: a.discriminatorOutputElements(i, batch: batch), y: buffers.act[i], dy: zbar,
                               slope: slope, dx: hbar)
      if let att = attention, att.layer == i, let xbar = p.attentionAdjoint {
        att.doubleBackward(buffers.act[i], adjointDx: hbar, adjointDy: zbar, adjointX: xbar, mode: .accumulate)
        gbar = zbar
      } else {
        gbar = hbar
      }
    }
    // The head's and the projection's first backward are linear in their weights.
    let c = a.discriminatorInputChannels(L - 1)
    let (dw, add) = weightGradient(L - 1, accumulate: true)
    Dense.backwardWeights(batch: batch, inFeatures: 16 * c, outFeatures: 1, x: gbar, dy: logitGradient, dw: dw,
                          accumulate: add, workspace: buffers.workspace, threads: threads)
    spectral[L - 1]?.backward(accumulate: true)
    if let e = embedding {
      e.normalizedGradient.update(repeating: 0, count: e.count)
      ProjectionHead.backward(images: batch, positions: 16, channels: c, labels: labels, h: gbar, embed: e.normalized,
                              dlogit: logitGradient, dh: spare(gbar), accumulate: false, dembed: e.normalizedGradient)
      e.backward(accumulate: true)
    }
    // The attention block's input adjoint, back through the forward pass below it.
    if let att = attention, let xbar = p.attentionAdjoint {
      backwardLayers(from: att.layer, gradient: xbar, throughAttention: false, images: images, weightGradients: true,
                     accumulate: true, inputGradient: false, tape: false)
    }
    return value / Double(gradientScale)
  }
}

/// A WGAN-GP critic's buffers for the double backward: each hidden layer's first-backward
/// gradient d(loss)/d(pre_i), three adjoint buffers of the largest activation, and the adjoint of
/// the attention block's input.
struct PenaltyBuffers {
  let tape: [UnsafeMutablePointer<Float>]
  let adjoints: [UnsafeMutablePointer<Float>]
  let attentionAdjoint: UnsafeMutablePointer<Float>?
}
