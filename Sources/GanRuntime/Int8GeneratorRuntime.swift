import CGanKernels
import GanKernels
import GanModel

/// An int8 generator (gan-quant's file) planned once: weights packed for the int8 kernels, the
/// per-channel requantization factors precomputed, one arena. Runs of consecutive int8 layers go
/// through the kernels in one parallel region; a layer kept in fp32 runs the fp32 kernels, its
/// neighbours dequantizing into it (fp32 epilogue) or quantizing its output as they read it.
/// A SAGAN's conditional BatchNorm (per-class tables, then ReLU) and self-attention run in fp32
/// between layers: the layer before them writes floats, the layer after quantizes as it reads.
/// `generate` allocates nothing; the output is bitwise identical for any thread count and batch.
public final class Int8GeneratorRuntime {
  public let architecture: Architecture
  public let maxBatch: Int
  public let threads: Int
  public let path: String
  /// Per layer: true when it runs in int8.
  public let int8Layers: [Bool]
  /// Input scale of each int8 layer (real value = code * scale); 0 for fp32 layers.
  public let inputScales: [Float]
  /// Per layer: true when it runs as the exact int8 Winograd F(2x2, 2x2) (bitwise the same output).
  public let winogradLayers: [Bool]

  public var imageElements: Int { architecture.imageSize * architecture.imageSize * architecture.nc }
  public let classNames: [String]

  private let arena: Arena
  /// The SAGAN passes' tables and buffers.
  private let extraArena: Arena
  private let layers: UnsafeMutablePointer<Int8Kernels.Layer>
  private let packedInt8: [UnsafeMutablePointer<Int8>?]
  /// The layers kept in fp32 (nil for int8 ones), run by the fp32 runtime's layer code.
  private let fp32Layers: [FP32Layer?]
  private let mult: [UnsafeMutablePointer<Float>]
  private let bias: [UnsafeMutablePointer<Float>]
  /// Layer outputs (all but the last): u8 codes when the next layer is int8, else floats.
  private let outU8: [UnsafeMutablePointer<UInt8>?]
  private let outF32: [UnsafeMutablePointer<Float>?]
  /// The last layer's floats when the caller wants only pixels and the layer runs in fp32.
  private let lastScratch: UnsafeMutablePointer<Float>
  private let workspace: UnsafeMutableRawPointer
  /// Per layer: a conditional BatchNorm's per-class tables (classes x channels), applied with ReLU.
  private let conditionalTables: [(scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>)?]
  private let attention: AttentionBlock?
  /// Per layer: true when an fp32 pass (conditional BatchNorm, attention) follows it.
  private let passAfter: [Bool]
  private let classZero: UnsafeMutablePointer<Int32>

  public var kernelDescription: String {
    let kept = (0..<architecture.layerCount).filter { !int8Layers[$0] }
    let winogradAt = (0..<architecture.layerCount).filter { winogradLayers[$0] }
    return "int8 \(Int8Kernels.selectedVariantName)" + (winogradAt.isEmpty ? "" : ", Winograd F(2x2,2x2) layers " +
        "\(formatList(winogradAt))")
      + (kept.isEmpty ? "" : ", fp32 layers \(formatList(kept)) (GEMM \(Kernels.selectedGemmVariant.name))")
  }

  /// winograd: the int8 deconvolutions with at least 128 input channels run as exact Winograd
  /// F(2x2, 2x2) where the int8 variant multiplies int16 x int16 (no VNNI or sdot): faster at
  /// batch 64 (benchmarks/winograd/q8-winograd-probe.c), slower at batch 1, output unchanged.
  /// winogradLayers: these layers instead of the rule (tests; each must be a supported deconvolution).
  public convenience init(path: String, maxBatch: Int, threads: Int, winograd: Bool = false,
                          winogradLayers chosen: Set<Int>? = nil) throws(GanError) {
    try self.init(file: try SafeTensorsFile(path: path), maxBatch: maxBatch, threads: threads, winograd: winograd,
                  winogradLayers: chosen)
  }

  /// From an opened (validated) int8 generator file.
  public init(file: SafeTensorsFile, maxBatch: Int, threads: Int, winograd: Bool = false,
              winogradLayers chosen: Set<Int>? = nil) throws(GanError) {
    precondition(maxBatch > 0 && threads > 0)
    let path = file.path
    func bad(_ r: String) -> GanError { .invalidFile(path: path, reason: r) }
    guard file.metadata["gan.format"] == Int8Format.tag else {
      throw bad("not an int8 generator (metadata gan.format is " +
                "\(file.metadata["gan.format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(Int8Format.tag)\")")
    }
    guard let archText = file.metadata["gan.arch"] else { throw bad("metadata gan.arch is missing") }
    let a: Architecture
    do { a = try Architecture(json: archText) } catch { throw bad("metadata gan.arch: \(error.description)") }
    self.path = path
    architecture = a
    self.maxBatch = maxBatch
    self.threads = threads
    let L = a.layerCount
    classNames = a.isConditional ? Architecture.classNames(file, classes: a.classes) : []
    let attentionSpec = a.isSAGAN ? a.generatorSpec.attention : nil
    let passes = (0..<L).map { i in i < L - 1 && (a.isConditional || attentionSpec?.layer == i) }
    passAfter = passes

    // Validate every tensor before planning; the small ones are kept (biases, scales).
    var isInt8 = [Bool](), scalesIn = [Float](), biases = [[Float]](), weightScales = [[Float]]()
    for i in 0..<L {
      let cin = a.generatorInputChannels(i), cout = a.generatorChannels(i)
      guard let w = file.entry(Int8Format.weight(i)) else { throw bad("missing tensor \"\(Int8Format.weight(i))\"") }
      guard w.shape == [cin, cout, 4, 4] else {
        throw bad("tensor \"\(w.name)\" has shape \(formatList(w.shape)), expected \(formatList([cin, cout, 4, 4])) " +
                  "for \(a)")
      }
      guard w.dtype == .I8 || w.dtype == .F32 else {
        throw bad("tensor \"\(w.name)\" is \(w.dtype.rawValue), expected I8 (or F32 for a layer kept in fp32)")
      }
      let b = try file.floats(Int8Format.bias(i), shape: [cout])
      if let k = b.firstIndex(where: { !$0.isFinite }) { throw bad("tensor \"\(Int8Format.bias(i))\"[\(k)] is \(b[k])") }
      biases.append(b)
      weightScales.append([])
      if w.dtype == .I8 {
        let ws = try file.floats(Int8Format.weightScale(i))
        guard ws.count == cout else {
          throw bad("tensor \"\(Int8Format.weightScale(i))\" has \(ws.count) scales, expected \(cout) (one per " +
                    "output channel of \(w.name))")
        }
        if let k = ws.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
          throw bad("tensor \"\(Int8Format.weightScale(i))\"[\(k)] is \(ws[k]); scales must be finite and positive")
        }
        let s = try file.floats(Int8Format.inputScale(i))
        guard s.count == 1 else {
          throw bad("tensor \"\(Int8Format.inputScale(i))\" has \(s.count) values, expected 1")
        }
        guard s[0].isFinite && s[0] > 0 else {
          throw bad("tensor \"\(Int8Format.inputScale(i))\" is \(s[0]); scales must be finite and positive")
        }
        isInt8.append(true); scalesIn.append(s[0]); weightScales[i] = ws
      } else {
        isInt8.append(false); scalesIn.append(0)
      }
    }
    int8Layers = isInt8
    inputScales = scalesIn
    var winogradAt = [Bool](repeating: false, count: L)
    for i in 0..<L {
      let supported = isInt8[i] && i > 0
        && Int8Kernels.winogradSupported(height: a.generatorSize(i - 1), width: a.generatorSize(i - 1),
                                         inChannels: a.generatorInputChannels(i))
      if let chosen {
        if chosen.contains(i) && !supported {
          throw bad("layer \(i) cannot run as int8 Winograd on \(Int8Kernels.selectedVariantName)")
        }
        winogradAt[i] = chosen.contains(i)
      } else {
        winogradAt[i] = winograd && isInt8[i] && i > 0
          && AlgorithmPolicy.int8DeconvolutionWinograd(height: a.generatorSize(i - 1), width: a.generatorSize(i - 1),
                                                       inChannels: a.generatorInputChannels(i), outChannels: a.generatorChannels(i))
      }
    }
    winogradLayers = winogradAt
    func kind(_ i: Int) -> Int32 { i == 0 ? Int8Kernels.dense : (winogradAt[i] ? Int8Kernels.deconv4s2Winograd : Int8Kernels.deconv4s2) }
    // Small reads fault in whole page-cache folios around them: drop the mapping's pages before
    // packing (the weights are read with pread).
    file.releaseAll()

    func elements(_ i: Int) -> Int { a.generatorOutputElements(i, batch: maxBatch) }
    func columns(_ i: Int) -> Int { i == 0 ? 16 * a.generatorChannels(0) : a.generatorChannels(i) }
    // Workspace: the int8 kernels' for all layers at maxBatch, and each fp32 layer's.
    var probe = [Int8Kernels.Layer](repeating: Int8Kernels.Layer(), count: L)
    for i in 0..<L {
      probe[i].kind = kind(i)
      probe[i].n = Int32(maxBatch); probe[i].h = Int32(i == 0 ? 1 : a.generatorSize(i - 1)); probe[i].w = probe[i].h
      probe[i].cin = Int32(a.generatorInputChannels(i)); probe[i].cout = Int32(columns(i))
    }
    var ws = Int8Kernels.workspaceBytes(probe, count: L, threads: threads)
    for i in 0..<L where !isInt8[i] {
      ws = max(ws, FP32Layer.workspaceBytes(layer: i, FP32Layer.kernel(layer: i, a), a, batch: maxBatch,
                                            threads: threads))
    }
    // Layer i's output is u8 codes when layer i + 1 reads them directly, else floats.
    let codes = (0..<L).map { i in i < L - 1 && isInt8[i] && isInt8[i + 1] && !passes[i] }
    if let s = attentionSpec {
      ws = max(ws, AttentionBlock.workspaceBytes(s, architecture: a, batch: maxBatch, threads: threads))
    }
    let workspaceBytes = ws
    typealias Tables = (scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>)
    let extras = Arena.build(zeroed: false) { (ar: Arena) -> ([Tables?], AttentionBlock?, UnsafeMutablePointer<Int32>) in
      ((0..<L).map { i in a.isConditional && i < L - 1 ? (ar.floats(a.classes * a.generatorChannels(i)),
                                                          ar.floats(a.classes * a.generatorChannels(i))) : nil },
       attentionSpec.map { AttentionBlock($0, architecture: a, maxBatch: maxBatch, arena: ar) },
       ar.raw(4 * maxBatch).bindMemory(to: Int32.self, capacity: maxBatch))
    }
    extraArena = extras.arena
    (conditionalTables, attention, classZero) = extras.value
    classZero.update(repeating: 0, count: maxBatch)
    let built = Arena.build(zeroed: false) { ar in
      (ar.raw(L * MemoryLayout<Int8Kernels.Layer>.stride).bindMemory(to: Int8Kernels.Layer.self, capacity: L),
       (0..<L).map { i in isInt8[i] ? ar.raw(Int8Kernels.packedBytes(kind: kind(i),
                                                                  inChannels: a.generatorInputChannels(i), outChannels: columns(i)))
                                      .bindMemory(to: Int8.self, capacity: 1) : nil },
       (0..<L).map { i -> UnsafeMutablePointer<Float>? in
         isInt8[i] ? nil : ar.floats(FP32Layer.packedCount(layer: i, FP32Layer.kernel(layer: i, a), a))
       },
       (0..<L).map { ar.floats(columns($0)) }, (0..<L).map { ar.floats(columns($0)) },
       (0..<(L - 1)).map { i in codes[i] ? ar.raw(elements(i)).bindMemory(to: UInt8.self, capacity: elements(i)) : nil },
       (0..<(L - 1)).map { i in codes[i] ? nil : ar.floats(elements(i)) },
       ar.floats(elements(L - 1)), ar.raw(workspaceBytes))
    }
    arena = built.arena
    let packedFloat: [UnsafeMutablePointer<Float>?], biasViews: [UnsafeMutablePointer<Float>]
    (layers, packedInt8, packedFloat, mult, biasViews, outU8, outF32, lastScratch, workspace) = built.value
    bias = biasViews
    fp32Layers = (0..<L).map { i in
      isInt8[i] ? nil : FP32Layer(layer: i, kernel: FP32Layer.kernel(layer: i, a), architecture: a,
                                  weights: packedFloat[i]!, bias: biasViews[i],
                                  activation: a.isConditional ? .none : .relu)
    }
    try load(file, biases: biases, weightScales: weightScales)
    for i in 0..<L {
      guard let t = conditionalTables[i] else { continue }
      let n = a.classes * a.generatorChannels(i)
      let scale = try file.floats(Int8Format.conditionalScale(i), shape: [a.classes, a.generatorChannels(i)])
      let shift = try file.floats(Int8Format.conditionalShift(i), shape: [a.classes, a.generatorChannels(i)])
      if let k = (scale + shift).firstIndex(where: { !$0.isFinite }) {
        throw bad("conditional BatchNorm table of layer \(i) has a non-finite value at \(k)")
      }
      t.scale.update(from: scale, count: n)
      t.shift.update(from: shift, count: n)
    }
    try attention?.loadFolded(file)
  }

  /// Packs the weights (largest tensor first, each read into a temporary copy, so peak memory is
  /// the packed weights plus one source tensor) and fills the layer descriptors.
  private func load(_ file: SafeTensorsFile, biases fileBiases: [[Float]], weightScales: [[Float]]) throws(GanError) {
    let a = architecture, L = a.layerCount
    func weightCount(_ i: Int) -> Int { a.generatorInputChannels(i) * a.generatorChannels(i) }
    let order = (0..<L).sorted { weightCount($0) > weightCount($1) }
    for i in order {
      let cin = a.generatorInputChannels(i), cout = a.generatorChannels(i)
      let b = fileBiases[i]
      let positions = i == 0 ? 16 : 1
      let e = file.entry(Int8Format.weight(i))!
      if int8Layers[i] {
        let wScale = weightScales[i]
        // Requantize into the next int8 layer's codes, or dequantize into fp32.
        let outScale: Float = i < L - 1 && outU8[i] != nil ? inputScales[i + 1] : 1
        for p in 0..<positions {
          for c in 0..<cout {
            mult[i][p * cout + c] = inputScales[i] * wScale[c] / outScale
            bias[i][p * cout + c] = b[c] / outScale
          }
        }
        // Packing reads the whole tensor for every panel: from a copy, not the mapping.
        try file.withCopiedBytes(e) { bytes in
          let raw = bytes.bindMemory(to: Int8.self)
          if i == 0 {
            Int8Kernels.packProjection(nz: cin, channels: cout, torchWeights: raw.baseAddress!, into: packedInt8[i]!)
          } else if winogradLayers[i] {
            Int8Kernels.packDeconv4s2Winograd(inChannels: cin, outChannels: cout, torchWeights: raw.baseAddress!,
                                              into: packedInt8[i]!)
          } else {
            Int8Kernels.packDeconv4s2(inChannels: cin, outChannels: cout, torchWeights: raw.baseAddress!,
                                      into: packedInt8[i]!)
          }
        }
      } else {
        // A layer kept in fp32 (BatchNorm already folded by gan-quant).
        let layer = fp32Layers[i]!
        try file.withCopiedBytes(e) { bytes in
          let copy = bytes.bindMemory(to: Float.self)
          #if !_endian(little)
          for k in 0..<copy.count {
            UnsafeMutablePointer(mutating: copy.baseAddress!)[k] = Float(bitPattern: UInt32(littleEndian: copy[k].bitPattern))
          }
          #endif
          layer.pack(torch: copy.baseAddress!, channelScale: nil, shift: b)
        }
      }
    }
    for i in 0..<L where int8Layers[i] {
      var l = Int8Kernels.Layer()
      l.kind = i == 0 ? Int8Kernels.dense : (winogradLayers[i] ? Int8Kernels.deconv4s2Winograd : Int8Kernels.deconv4s2)
      l.h = Int32(i == 0 ? 1 : a.generatorSize(i - 1)); l.w = l.h
      l.cin = Int32(cin(i)); l.cout = Int32(i == 0 ? 16 * a.generatorChannels(0) : a.generatorChannels(i))
      if i == 0 {
        l.x_signed = 1  // the latent
        l.x_inv_scale = 1 / inputScales[0]
      } else if let codes = outU8[i - 1] {
        l.x_u8 = UnsafePointer(codes)
      } else {
        l.x_f32 = UnsafePointer(outF32[i - 1]!)
        l.x_inv_scale = 1 / inputScales[i]
      }
      l.packed = UnsafePointer(packedInt8[i]!)
      l.mult = UnsafePointer(mult[i]); l.bias = UnsafePointer(bias[i])
      if i == L - 1 {
        l.out = Int8Kernels.outF32Tanh
      } else if let codes = outU8[i] {
        l.out = Int8Kernels.outU8; l.y_u8 = codes
      } else {
        // A conditional BatchNorm follows: no ReLU yet.
        l.out = architecture.isConditional ? Int8Kernels.outF32 : Int8Kernels.outF32Relu; l.y_f32 = outF32[i]
      }
      layers[i] = l
    }
  }

  private func cin(_ i: Int) -> Int { architecture.generatorInputChannels(i) }

  public func generate(latents: UnsafePointer<Float>, labels: UnsafePointer<Int32>?, count: Int,
                       output: UnsafeMutablePointer<Float>?, pixels: UnsafeMutablePointer<UInt8>?) {
    precondition(count > 0 && count <= maxBatch, "generate: count \(count) outside 1...\(maxBatch)")
    let a = architecture, L = a.layerCount
    if let labels, a.isConditional {
      for i in 0..<count { precondition(labels[i] >= 0 && Int(labels[i]) < a.classes, "generate: class out of range") }
    }
    var i = 0
    while i < L {
      var last = i
      if int8Layers[i] {
        // A run of int8 layers up to the next fp32 pass: one kernel call.
        var j = i
        while j < L && int8Layers[j] {
          layers[j].n = Int32(count)
          if j == 0 { layers[j].x_f32 = latents }
          if j == L - 1 { layers[j].y_f32 = output; layers[j].pixels = pixels }
          j += 1
          if passAfter[j - 1] { break }
        }
        Int8Kernels.run(layers + i, count: j - i, workspace: workspace, threads: threads)
        last = j - 1
      } else {
        let x: UnsafePointer<Float> = i == 0 ? latents : UnsafePointer(outF32[i - 1]!)
        let y = i == L - 1 ? (output ?? lastScratch) : outF32[i]!
        fp32Layers[i]!.forward(count: count, x: x, y: y, pixels: pixels, workspace: workspace, threads: threads)
      }
      if passAfter[last], let y = outF32[last] {
        if let t = conditionalTables[last] {
          let side = a.generatorSize(last)
          ConditionalBatchNorm.apply(images: count, rowsPerImage: side * side, channels: a.generatorChannels(last), x: y,
                                     scale: t.scale, shift: t.shift, rows: labels ?? UnsafePointer(classZero),
                                     activation: .relu, y: y)
        }
        if let att = attention, att.layer == last { att.forward(count: count, x: y, workspace: workspace, threads: threads) }
      }
      i = last + 1
    }
  }

  /// Every layer's output for `count` latents as real values (codes times their scale), NHWC;
  /// the last is the image. For reports (allocates).
  public func layerOutputs(latents: UnsafePointer<Float>, labels: UnsafePointer<Int32>? = nil,
                           count: Int) -> [[Float]] {
    let a = architecture, L = a.layerCount
    var image = [Float](repeating: 0, count: count * imageElements)
    image.withUnsafeMutableBufferPointer { generate(latents: latents, labels: labels, count: count,
                                                    output: $0.baseAddress!, pixels: nil) }
    var result: [[Float]] = []
    for i in 0..<(L - 1) {
      let n = a.generatorOutputElements(i, batch: count)
      if let u = outU8[i] {
        let s = inputScales[i + 1]
        result.append((0..<n).map { Float(u[$0]) * s })
      } else {
        result.append(Array(UnsafeBufferPointer(start: outF32[i]!, count: n)))
      }
    }
    result.append(image)
    return result
  }
}

extension Int8GeneratorRuntime: ImageGenerator {}
