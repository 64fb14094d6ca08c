import CGanSystem
import GanKernels
import GanModel

/// The latent of image `index` under `seed`: a pure function of (seed, index) (Philox4x32-10
/// stream `index`), so image i is the same whatever the batch, the first index or the threads.
public func latent(seed: UInt64, index: Int, into out: UnsafeMutablePointer<Float>, nz: Int) {
  var r = Philox4x32(seed: seed, stream: UInt64(index))
  r.fillNormal(UnsafeMutableBufferPointer(start: out, count: nz))
}

/// A DCGAN or SAGAN generator planned once for inference: BatchNorm (and spectral norm's 1 / sigma)
/// folded into the weights and a bias, weights in the kernels' layouts, one arena (two ping-pong
/// activation buffers and a workspace) sized for `maxBatch`. A conditional SAGAN's BatchNorm
/// becomes per-class scale and shift tables applied image by image after the layer; its
/// self-attention runs in place after its layer. `generate` allocates nothing.
public final class GeneratorRuntime {
  public let architecture: Architecture
  public let maxBatch: Int
  public let threads: Int
  /// Where the model came from and how its tensors were named.
  public let path: String
  public let namePrefix: String

  /// The layers: folded weights packed for the kernel variant selected at load, biases.
  private let layers: [FP32Layer]
  private let ping: UnsafeMutablePointer<Float>
  private let pong: UnsafeMutablePointer<Float>
  private let workspace: UnsafeMutableRawPointer
  private let arena: Arena
  /// The last layer (1 or 3 channels) runs the direct narrow kernel instead of a GEMM.
  private let narrowOutput: Bool
  /// Per layer: a conditional BatchNorm's per-class scale and shift tables (classes x channels).
  private let conditionalTables: [(scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>)?]
  private let attention: AttentionBlock?
  /// maxBatch zeros: the classes when `generate` is given none.
  private let classZero: UnsafeMutablePointer<Int32>
  /// A conditional model's class names (gan.classes, or numbers); empty for unconditional ones.
  public let classNames: [String]
  /// The kernel calls of one `generate`, refilled per call (fixed capacity, no allocation).
  private let sequence: StepSequence

  /// Floats per image of the output (S * S * nc), NHWC.
  public var imageElements: Int { architecture.imageSize * architecture.imageSize * architecture.nc }

  /// Loads and validates a generator file written by gan-train, or a PyTorch DCGAN `state_dict`
  /// saved with safetensors (`main.N.` or bare `N.` names; a `G.` prefix is accepted too).
  /// winograd: the deconvolution layers (all but the narrow output) run Winograd where
  /// `AlgorithmPolicy` picks a tile for their shape: faster at larger batches, and bitwise
  /// identical across threads and batch sizes like the direct path (the choice depends on the
  /// layer's shape, not on the batch), but not bitwise equal to it (within ~1e-6 relative).
  public let winograd: Bool
  /// Per layer: the Winograd tile (2 or 4), or 0 for the direct kernel.
  public let winogradTiles: [Int]
  private let anyWinograd: Bool

  /// Kernels in use, for --bench.
  public var kernelDescription: String {
    let a = architecture
    var layers: [String] = []
    for i in 1..<a.layerCount where !(i == a.layerCount - 1 && narrowOutput) {
      let h = a.generatorSize(i - 1)
      let t = winogradTiles[i]
      let kernel = t == 0 ? "direct" : "Winograd F(\(t)x\(t),2x2)"
      layers.append("\(h)x\(h)x\(a.generatorInputChannels(i))->\(a.generatorChannels(i)) " + kernel)
    }
    return "GEMM \(Kernels.selectedGemmVariant.name); deconvolutions: " + layers.joined(separator: ", ")
      + (narrowOutput ? "; output layer \(NarrowDeconv4s2.selectedVariantName)" : "")
  }

  public convenience init(path: String, maxBatch: Int, threads: Int, winograd: Bool = false) throws(GanError) {
    try self.init(file: try SafeTensorsFile(path: path), maxBatch: maxBatch, threads: threads, winograd: winograd)
  }

  /// From an opened (validated) fp32 generator file.
  public init(file: SafeTensorsFile, maxBatch: Int, threads: Int, winograd: Bool = false) throws(GanError) {
    precondition(maxBatch > 0 && threads > 0)
    let sagan = Architecture.saganGeneratorPrefix(file) != nil
    let (arch, prefix) = sagan ? try Architecture.inferSAGANGenerator(file) : try Architecture.inferGenerator(file)
    classNames = arch.isConditional ? Architecture.classNames(file, classes: arch.classes) : []
    self.path = file.path
    architecture = arch
    namePrefix = prefix
    self.maxBatch = maxBatch
    self.threads = threads
    self.winograd = winograd
    let L = arch.layerCount
    let tiles = (0..<L).map { i -> Int in
      guard winograd, FP32Layer.kernel(layer: i, arch) == .deconv else { return 0 }
      return AlgorithmPolicy.inferenceDeconvolutionTile(height: arch.generatorSize(i - 1),
                                                        inChannels: arch.generatorInputChannels(i),
                                    outChannels: arch.generatorChannels(i))
    }
    winogradTiles = tiles
    let spec = arch.generatorSpec
    // Winograd's transforms, conditional BatchNorm and attention are not sequence steps.
    anyWinograd = tiles.contains { $0 > 0 } || arch.isConditional || spec.attention != nil
    let kernels = (0..<L).map { FP32Layer.kernel(layer: $0, arch, winogradTile: tiles[$0]) }
    // Largest activation (NHWC floats) and workspace over the layers.
    var maxElements = 0, ws = 0
    for i in 0..<L {
      maxElements = max(maxElements, arch.generatorOutputElements(i, batch: maxBatch))
      ws = max(ws, FP32Layer.workspaceBytes(layer: i, kernels[i], arch, batch: maxBatch, threads: threads))
      if i > 0 {
        // A sequence may run the four phases one per thread, each in its own slice.
        let h = arch.generatorSize(i - 1)
        ws = max(ws, StepSequence.workspaceBytes(m: maxBatch * h * h, n: arch.generatorChannels(i),
                                                 k: 4 * arch.generatorInputChannels(i), threads: threads))
      }
    }
    if let s = spec.attention {
      ws = max(ws, AttentionBlock.workspaceBytes(s, architecture: arch, batch: maxBatch, threads: threads))
    }
    let workspaceBytes = ws, activationElements = maxElements
    // Not pre-zeroed: packed weights become resident as they are written (peak memory).
    let conditional = arch.isConditional
    typealias Tables = (scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>)
    let built = Arena.build(zeroed: false) { (a: Arena) -> ([FP32Layer], UnsafeMutablePointer<Float>,
                                                             UnsafeMutablePointer<Float>, UnsafeMutableRawPointer,
                                                             [Tables?], AttentionBlock?,
                                                             UnsafeMutablePointer<Int32>) in
      let layers = (0..<L).map { (i: Int) -> FP32Layer in
        FP32Layer(layer: i, kernel: kernels[i], architecture: arch, weights: a.floats(FP32Layer.packedCount(layer: i,
            kernels[i], arch)),
                  bias: a.floats(FP32Layer.biasCount(layer: i, arch)), activation: conditional ? .none : .relu)
      }
      let tables = (0..<L).map { (i: Int) -> Tables? in
        conditional && i < L - 1 ? (a.floats(arch.classes * arch.generatorChannels(i)),
                                    a.floats(arch.classes * arch.generatorChannels(i))) : nil
      }
      let att = spec.attention.map { AttentionBlock($0, architecture: arch, maxBatch: maxBatch, arena: a) }
      return (layers, a.floats(activationElements), a.floats(activationElements), a.raw(workspaceBytes), tables, att,
              a.raw(4 * maxBatch).bindMemory(to: Int32.self, capacity: maxBatch))
    }
    arena = built.arena
    (layers, ping, pong, workspace, conditionalTables, attention, classZero) = built.value
    classZero.update(repeating: 0, count: maxBatch)
    narrowOutput = kernels[L - 1] == .narrow
    sequence = StepSequence(capacity: 4 * L)
    if arch.isSAGAN {
      try loadAndFoldSAGAN(file, spec: spec)
    } else {
      try loadAndFold(file, spec: spec)
    }
  }

  /// A SAGAN generator: each layer's weight divided by its spectral norm's sigma (stored u, v;
  /// eval mode) while it is packed, as a per-channel scale; an affine BatchNorm folded as DCGAN's;
  /// a conditional one into per-class tables (scale = gain * rstd, shift = bias - mean * scale)
  /// that `generate` applies image by image with ReLU; the attention block's W / sigma.
  private func loadAndFoldSAGAN(_ file: SafeTensorsFile, spec: NetworkSpec) throws(GanError) {
    let a = architecture, L = a.layerCount
    for i in 0..<L {
      let cout = a.generatorChannels(i), name = spec.convNames[i]
      var scale = [Float](repeating: 1, count: cout), shift = [Float](repeating: 0, count: cout)
      if let names = spec.norms[i] {
        if names.conditional, let t = conditionalTables[i] {
          let (s, h) = try InferenceFold.conditionalBatchNorm(file, prefix: namePrefix, names: names, classes: a.classes,
                                                              channels: cout)
          t.scale.update(from: s, count: s.count)
          t.shift.update(from: h, count: h.count)
        } else {
          (scale, shift) = try BatchNormFold.scaleShift(
            gamma: try file.floats(namePrefix + names.gain, shape: [cout]),
            beta: try file.floats(namePrefix + names.bias, shape: [cout]),
            mean: try file.floats(namePrefix + names.runningMean, shape: [cout]),
            variance: try file.floats(namePrefix + names.runningVar, shape: [cout]), name: namePrefix + names.gain,
            path: file.path)
        }
      }
      if let norm = spec.spectralNorm(of: name) {
        let sigma = try InferenceFold.sigma(file, prefix: namePrefix, spec: spec, norm: norm)
        for c in 0..<cout { scale[c] /= sigma }
      }
      let wSpec = spec.parameter(named: name)!
      let layer = layers[i], folded = i < L - 1
      try file.withFloats(namePrefix + name, shape: wSpec.layout.torchShape) { torch in
        layer.pack(torch: torch, channelScale: folded ? scale : nil, shift: shift)
      }
    }
    if let att = attention, let s = spec.attention { try att.load(file, prefix: namePrefix, spec: spec, attention: s) }
  }

  /// BatchNorm folded per output channel: weights scaled by gamma / sqrt(var + eps) while they are
  /// packed (straight from PyTorch's layout in the mapped file), bias = beta - mean * that scale
  /// (zero for the last layer). Largest layer first and each tensor's file pages released after
  /// packing, so peak memory is the packed weights plus one source tensor.
  private func loadAndFold(_ file: SafeTensorsFile, spec: NetworkSpec) throws(GanError) {
    let a = architecture, L = a.layerCount
    func weightCount(_ i: Int) -> Int { spec.parameter(named: "main.\(spec.convIndex[i]).weight")!.count }
    let order = (0..<L).sorted { weightCount($0) > weightCount($1) }
    for i in order {
      let wSpec = spec.parameter(named: "main.\(spec.convIndex[i]).weight")!
      let cout = a.generatorChannels(i)
      var scale = [Float](repeating: 1, count: cout), shift = [Float](repeating: 0, count: cout)
      if let bn = spec.bnIndex[i] {
        (scale, shift) = try BatchNormFold.scaleShift(file, prefix: namePrefix + "\(bn).", channels: cout)
      }
      let layer = layers[i]
      let folded = spec.bnIndex[i] != nil
      try file.withFloats(namePrefix + "\(spec.convIndex[i]).weight", shape: wSpec.layout.torchShape) { torch in
        layer.pack(torch: torch, channelScale: folded ? scale : nil, shift: shift)
      }
    }
  }

  /// Generates `count` images (count <= maxBatch) from latents (count, nz) and, for conditional
  /// models, classes (count values in 0 ..< classes; nil: class 0).
  /// output: NHWC floats in [-1, 1] (count * imageElements), and/or pixels: NHWC uint8.
  ///
  /// Normally all layers run as one step sequence (one parallel region per call). With Winograd,
  /// conditional BatchNorm or attention, whose passes are not sequence steps, each layer is its
  /// own kernel call.
  public func generate(latents: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, count: Int,
                       output: UnsafeMutablePointer<Float>?, pixels: UnsafeMutablePointer<UInt8>?) {
    precondition(count > 0 && count <= maxBatch, "generate: count \(count) outside 1...\(maxBatch)")
    if let labels, architecture.isConditional {
      for i in 0..<count { precondition(labels[i] >= 0 && Int(labels[i]) < architecture.classes, "generate: class out of range") }
    }
    let L = architecture.layerCount
    // Winograd's transforms are not sequence steps: with any Winograd layer, one call per layer.
    let callPerLayer = anyWinograd
    if !callPerLayer { sequence.reset() }
    var x: UnsafePointer<Float> = latents
    var buffers = (ping, pong)
    for i in 0..<L {
      let y = i == L - 1 ? (output ?? buffers.0) : buffers.0
      if callPerLayer {
        layers[i].forward(count: count, x: x, y: y, pixels: pixels, workspace: workspace, threads: threads)
        if let t = conditionalTables[i] {
          let side = architecture.generatorSize(i)
          ConditionalBatchNorm.apply(images: count, rowsPerImage: side * side, channels: architecture.generatorChannels(i),
                                     x: y, scale: t.scale, shift: t.shift, rows: labels ?? UnsafePointer(classZero), activation: .relu,
                                     y: y)
        }
        if let a = attention, a.layer == i { a.forward(count: count, x: y, workspace: workspace, threads: threads) }
      } else {
        layers[i].append(to: sequence, count: count, x: x, y: y, pixels: pixels)
      }
      x = UnsafePointer(y)
      buffers = (buffers.1, buffers.0)
    }
    if !callPerLayer { sequence.run(workspace: workspace, threads: threads) }
  }
}
