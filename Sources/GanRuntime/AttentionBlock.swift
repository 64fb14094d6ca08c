import GanKernels
import GanModel

/// A SAGAN self-attention block planned for inference, kept in fp32 by both runtimes: W / sigma
/// of the query, key and value 1x1 convolutions (PyTorch's (cout, C) layout, the transposed B of a
/// GEMM over the NHWC positions), their biases and gamma; q, k, v, the attention map and o for
/// `maxBatch` images, carved from the runtime's arena. `forward` allocates nothing.
struct AttentionBlock {
  /// The generator layer it follows, its map's positions (H * W) and channels.
  let layer: Int
  let positions: Int
  let channels: Int
  let keyChannels: Int
  let weights: [UnsafeMutablePointer<Float>]
  let biases: [UnsafeMutablePointer<Float>]
  /// gamma, one float.
  let gamma: UnsafeMutablePointer<Float>
  let projections: [UnsafeMutablePointer<Float>]
  let map: UnsafeMutablePointer<Float>
  let attended: UnsafeMutablePointer<Float>

  func width(_ part: Int) -> Int { part == 2 ? channels : keyChannels }

  init(_ spec: AttentionSpec, architecture a: Architecture, maxBatch: Int, arena: Arena) {
    layer = spec.layer
    let side = a.generatorSize(spec.layer)
    positions = side * side
    channels = spec.channels
    keyChannels = spec.keyChannels
    let widths = [spec.keyChannels, spec.keyChannels, spec.channels], rows = maxBatch * positions
    weights = widths.map { arena.floats($0 * spec.channels) }
    biases = widths.map { arena.floats($0) }
    gamma = arena.floats(1)
    projections = widths.map { arena.floats(rows * $0) }
    map = arena.floats(maxBatch * positions * positions)
    attended = arena.floats(rows * spec.channels)
  }

  static func workspaceBytes(_ spec: AttentionSpec, architecture a: Architecture, batch: Int, threads: Int) -> Int {
    let side = a.generatorSize(spec.layer), p = side * side
    let shape = AttentionShape(batch: batch, positions: p, keyChannels: spec.keyChannels, valueChannels: spec.channels)
    return max(SelfAttention.workspaceBytes(shape, threads: threads),
               Gemm.workspaceBytes(m: batch * p, n: spec.channels, k: spec.channels, threads: threads))
  }

  /// W_orig / sigma (stored u, v), biases and gamma from a generator file (`prefix` + spec names).
  func load(_ f: SafeTensorsFile, prefix: String, spec: NetworkSpec, attention: AttentionSpec) throws(GanError) {
    for (p, part) in AttentionSpec.parts.enumerated() {
      let name = attention.weight(part)
      guard let norm = spec.spectralNorm(of: name) else { preconditionFailure("attention weight without spectral norm") }
      let sigma = try InferenceFold.sigma(f, prefix: prefix, spec: spec, norm: norm)
      let w = try f.floats(prefix + name, shape: [width(p), channels, 1, 1])
      for e in 0..<w.count { weights[p][e] = w[e] / sigma }
      let b = try f.floats(prefix + attention.bias(part), shape: [width(p)])
      for e in 0..<b.count { biases[p][e] = b[e] }
    }
    let g = try f.floats(prefix + attention.gamma, shape: [1])
    guard g[0].isFinite else { throw GanError.invalidFile(path: f.path, reason: "\(prefix + attention.gamma) is \(g[0])") }
    gamma.pointee = g[0]
  }

  /// The folded tensors of an int8 file (Int8Format: W / sigma already, biases, gamma).
  func loadFolded(_ f: SafeTensorsFile) throws(GanError) {
    for (p, part) in AttentionSpec.parts.enumerated() {
      let w = try f.floats(Int8Format.attentionWeight(part), shape: [width(p), channels, 1, 1])
      let b = try f.floats(Int8Format.attentionBias(part), shape: [width(p)])
      if let k = (w + b).firstIndex(where: { !$0.isFinite }) {
        throw GanError.invalidFile(path: f.path, reason: "attention \(part) has a non-finite value at \(k)")
      }
      weights[p].update(from: w, count: w.count)
      biases[p].update(from: b, count: b.count)
    }
    let g = try f.floats(Int8Format.attentionGamma, shape: [1])
    guard g[0].isFinite else { throw GanError.invalidFile(path: f.path, reason: "\(Int8Format.attentionGamma) is \(g[0])") }
    gamma.pointee = g[0]
  }

  /// x (count, P, C) NHWC <- gamma * attention(x) + x, in place.
  func forward(count: Int, x: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer, threads: Int) {
    let rows = count * positions
    for p in 0..<3 {
      Gemm.run(m: rows, n: width(p), k: channels, a: x, b: weights[p], transposeB: true, c: projections[p],
               epilogue: Epilogue(bias: biases[p]), workspace: workspace, threads: threads)
    }
    let shape = AttentionShape(batch: count, positions: positions, keyChannels: keyChannels, valueChannels: channels)
    SelfAttention.forward(shape, q: projections[0], k: projections[1], v: projections[2], attn: map, o: attended,
                          workspace: workspace, threads: threads)
    AttentionPasses.scaleAdd(count: rows * channels, alpha: gamma.pointee, x: attended, y: x, out: x)
  }
}
