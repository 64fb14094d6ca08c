import CGanSystem
import GanKernels
import GanModel

/// The latent of image `index` under `seed`: a pure function of (seed, index) (Philox4x32-10
/// stream `index`), so image i is the same whatever the batch, the first index or the threads.
public func latent(seed: UInt64, index: Int, into out: UnsafeMutablePointer<Float>, nz: Int) {
  var r = Philox4x32(seed: seed, stream: UInt64(index))
  r.fillNormal(UnsafeMutableBufferPointer(start: out, count: nz))
}

/// A DCGAN generator planned once for inference: BatchNorm folded into the weights and a bias,
/// weights in the kernels' layouts, one arena (two ping-pong activation buffers and a workspace)
/// sized for `maxBatch`. `generate` allocates nothing.
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
    let (arch, prefix) = try Architecture.inferGenerator(file)
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
    anyWinograd = tiles.contains { $0 > 0 }
    let spec = arch.generatorSpec
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
    let workspaceBytes = ws, activationElements = maxElements
    // Not pre-zeroed: packed weights become resident as they are written (peak memory).
    let built = Arena.build(zeroed: false) { a in
      ((0..<L).map { i in
        FP32Layer(layer: i, kernel: kernels[i], architecture: arch, weights: a.floats(FP32Layer.packedCount(layer: i,
            kernels[i], arch)),
                  bias: a.floats(FP32Layer.biasCount(layer: i, arch)))
      }, a.floats(activationElements), a.floats(activationElements), a.raw(workspaceBytes))
    }
    arena = built.arena
    (layers, ping, pong, workspace) = built.value
    narrowOutput = kernels[L - 1] == .narrow
    sequence = StepSequence(capacity: 4 * L)
    try loadAndFold(file, spec: spec)
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

  /// Generates `count` images (count <= maxBatch) from latents (count, nz).
  /// output: NHWC floats in [-1, 1] (count * imageElements), and/or pixels: NHWC uint8.
  ///
  /// Normally all layers run as one step sequence (one parallel region per call). With Winograd,
  /// whose transforms are not sequence steps, each layer is its own kernel call.
  public func generate(latents: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>?,
                       pixels: UnsafeMutablePointer<UInt8>?) {
    precondition(count > 0 && count <= maxBatch, "generate: count \(count) outside 1...\(maxBatch)")
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
      } else {
        layers[i].append(to: sequence, count: count, x: x, y: y, pixels: pixels)
      }
      x = UnsafePointer(y)
      buffers = (buffers.1, buffers.0)
    }
    if !callPerLayer { sequence.run(workspace: workspace, threads: threads) }
  }
}
