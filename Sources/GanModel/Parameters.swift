/// How a tensor is laid out inside swift-gan versus in PyTorch.
public enum TensorLayout: Sendable, Equatable {
  /// ConvTranspose2d(4, 2, 1) weight: PyTorch (cin, cout, 4, 4) <-> internal KKIO (4, 4, cin, cout).
  case deconvWeight(cin: Int, cout: Int)
  /// ConvTranspose2d(4, 1, 0) from 1x1: PyTorch (cin, cout, 4, 4) <-> internal (cin, 4, 4, cout).
  case projectionWeight(cin: Int, cout: Int)
  /// Conv2d(4, ...) weight: PyTorch (cout, cin, 4, 4) <-> internal KKIO (4, 4, cin, cout).
  case convWeight(cin: Int, cout: Int)
  /// Per-channel vector (BatchNorm weight, bias, running statistics): same layout.
  case vector(Int)

  public var count: Int {
    switch self {
    case .deconvWeight(let a, let b), .projectionWeight(let a, let b), .convWeight(let a, let b): return 16 * a * b
    case .vector(let n): return n
    }
  }

  /// PyTorch's shape.
  public var torchShape: [Int] {
    switch self {
    case .deconvWeight(let ci, let co), .projectionWeight(let ci, let co): return [ci, co, 4, 4]
    case .convWeight(let ci, let co): return [co, ci, 4, 4]
    case .vector(let n): return [n]
    }
  }

  /// Internal index of PyTorch's flat index.
  @inline(__always)
  func internalIndex(ofTorch i: Int) -> Int {
    switch self {
    case .deconvWeight(let cin, let cout):
      let kx = i & 3, ky = (i >> 2) & 3, co = (i >> 4) % cout, ci = (i >> 4) / cout
      return ((ky * 4 + kx) * cin + ci) * cout + co
    case .projectionWeight(_, let cout):
      let kx = i & 3, ky = (i >> 2) & 3, co = (i >> 4) % cout, ci = (i >> 4) / cout
      return ((ci * 4 + ky) * 4 + kx) * cout + co
    case .convWeight(let cin, let cout):
      let kx = i & 3, ky = (i >> 2) & 3, ci = (i >> 4) % cin, co = (i >> 4) / cin
      return ((ky * 4 + kx) * cin + ci) * cout + co
    case .vector:
      return i
    }
  }

  /// Copies a PyTorch-layout tensor into the internal layout.
  public func fromTorch(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>) {
    for i in 0..<count { dst[internalIndex(ofTorch: i)] = src[i] }
  }

  /// Copies an internal-layout tensor out in PyTorch's layout.
  public func toTorch(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>) {
    for i in 0..<count { dst[i] = src[internalIndex(ofTorch: i)] }
  }
}

/// One named tensor of a network: its PyTorch name, layout and place in a flat buffer.
public struct TensorSpec: Sendable, Equatable {
  public var name: String
  public var layout: TensorLayout
  public var offset: Int
  public var count: Int { layout.count }
}

/// Trainable parameters and BatchNorm buffers of G or D, in PyTorch's `state_dict` names
/// (`main.0.weight`, `main.1.running_mean`, ...), each with its offset in one flat buffer.
public struct NetworkSpec: Sendable {
  public let parameters: [TensorSpec]
  public let buffers: [TensorSpec]
  public let parameterCount: Int
  public let bufferCount: Int
  /// `main.N.` index of each layer's convolution and (where present) BatchNorm.
  public let convIndex: [Int]
  public let bnIndex: [Int?]

  init(layers: [(conv: Int, layout: TensorLayout, bn: Int?, channels: Int)]) {
    var params: [TensorSpec] = [], bufs: [TensorSpec] = []
    var p = 0, b = 0
    for l in layers {
      params.append(TensorSpec(name: "main.\(l.conv).weight", layout: l.layout, offset: p))
      p += l.layout.count
      if let bn = l.bn {
        params.append(TensorSpec(name: "main.\(bn).weight", layout: .vector(l.channels), offset: p))
        p += l.channels
        params.append(TensorSpec(name: "main.\(bn).bias", layout: .vector(l.channels), offset: p))
        p += l.channels
        bufs.append(TensorSpec(name: "main.\(bn).running_mean", layout: .vector(l.channels), offset: b))
        b += l.channels
        bufs.append(TensorSpec(name: "main.\(bn).running_var", layout: .vector(l.channels), offset: b))
        b += l.channels
      }
    }
    parameters = params; buffers = bufs; parameterCount = p; bufferCount = b
    convIndex = layers.map { $0.conv }
    bnIndex = layers.map { $0.bn }
  }

  public func parameter(named name: String) -> TensorSpec? { parameters.first { $0.name == name } }
  public func buffer(named name: String) -> TensorSpec? { buffers.first { $0.name == name } }
}

extension Architecture {
  /// The generator's tensors: layer i is `main.(3i)` (ConvTranspose2d) and `main.(3i+1)` (BatchNorm2d).
  public var generatorSpec: NetworkSpec {
    NetworkSpec(layers: (0..<layerCount).map { i in
      let ci = generatorInputChannels(i), co = generatorChannels(i)
      let layout: TensorLayout = i == 0 ? .projectionWeight(cin: ci, cout: co) : .deconvWeight(cin: ci, cout: co)
      return (3 * i, layout, i < layerCount - 1 ? 3 * i + 1 : nil, co)
    })
  }

  /// The discriminator's tensors: `main.0` Conv2d, then `main.(3i-1)` Conv2d and `main.(3i)`
  /// BatchNorm2d for blocks i >= 1; the final Conv2d(4, 1, 0) has no BatchNorm.
  public var discriminatorSpec: NetworkSpec {
    NetworkSpec(layers: (0..<layerCount).map { i in
      let ci = discriminatorInputChannels(i), co = discriminatorChannels(i)
      let conv = i == 0 ? 0 : 3 * i - 1
      let hasBN = i > 0 && i < layerCount - 1
      return (conv, .convWeight(cin: ci, cout: co), hasBN ? 3 * i : nil, co)
    })
  }
}
