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
  /// A row-major matrix (embedding tables, conditional BatchNorm's gain and bias): same layout.
  case matrix(rows: Int, columns: Int)
  /// Conv2d(cin, cout, 1) weight: PyTorch (cout, cin, 1, 1), internally the same (cout x cin)
  /// matrix, used as the transposed B of a GEMM over NHWC positions.
  case pointwiseWeight(cin: Int, cout: Int)
  /// Spectral norm's v of a 4x4 (transposed) convolution kept KKIO: PyTorch orders the columns of
  /// the weight's (out, -1) view (cin, ky, kx), the internal matrix tap-major (ky, kx, cin).
  case spectralColumns(cin: Int)

  public var count: Int {
    switch self {
    case .deconvWeight(let a, let b), .projectionWeight(let a, let b), .convWeight(let a, let b): return 16 * a * b
    case .vector(let n): return n
    case .matrix(let r, let c): return r * c
    case .pointwiseWeight(let a, let b): return a * b
    case .spectralColumns(let c): return 16 * c
    }
  }

  /// PyTorch's shape.
  public var torchShape: [Int] {
    switch self {
    case .deconvWeight(let ci, let co), .projectionWeight(let ci, let co): return [ci, co, 4, 4]
    case .convWeight(let ci, let co): return [co, ci, 4, 4]
    case .vector(let n): return [n]
    case .matrix(let r, let c): return [r, c]
    case .pointwiseWeight(let ci, let co): return [co, ci, 1, 1]
    case .spectralColumns(let c): return [16 * c]
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
    case .spectralColumns(let cin):
      return (i & 15) * cin + (i >> 4)
    case .vector, .matrix, .pointwiseWeight:
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

/// How a tensor starts out (DESIGN.md section 3; SAGAN: tools/sagan_reference.py).
public enum TensorInitialization: Sendable, Equatable {
  case normal(mean: Float, std: Float)
  case constant(Float)
  /// N(0, 1) normalized to unit length: spectral norm's u and v (torch.nn.utils.spectral_norm).
  case unitVector
}

/// One named tensor of a network: its PyTorch name, layout and place in a flat buffer.
public struct TensorSpec: Sendable, Equatable {
  public var name: String
  public var layout: TensorLayout
  public var offset: Int
  public var initialization: TensorInitialization
  public var count: Int { layout.count }

  public init(name: String, layout: TensorLayout, offset: Int, initialization: TensorInitialization) {
    self.name = name; self.layout = layout; self.offset = offset; self.initialization = initialization
  }

  /// A BatchNorm running statistic (reset to 0 / 1 before re-estimation), not spectral norm's u, v.
  public var isRunningStatistic: Bool { name.hasSuffix("running_mean") || name.hasSuffix("running_var") }
}

/// Trainable parameters and buffers (BatchNorm running statistics, spectral norm's u and v) of G
/// or D, in PyTorch's `state_dict` names (`main.0.weight`, `main.1.running_mean`,
/// `blocks.0.conv.weight_orig`, ...), each with its offset in one flat buffer.
public struct NetworkSpec: Sendable {
  public let parameters: [TensorSpec]
  public let buffers: [TensorSpec]
  public let parameterCount: Int
  public let bufferCount: Int
  /// Per (de)convolution layer, in order: the name of the weight training updates
  /// (`main.N.weight`; SAGAN `blocks.N.conv.weight_orig`, `output.weight`, `head.weight_orig`).
  public let convNames: [String]
  /// Per layer: the tensors of its BatchNorm, nil where none.
  public let norms: [BatchNormNames?]
  /// Spectral norm (SAGAN): every normalized weight with its u and v.
  public let spectralNorms: [SpectralNormSpec]
  /// Self-attention blocks (SAGAN): the layer each follows and its tensors' prefix.
  public let attention: AttentionSpec?
  /// DCGAN only: `main.N.` index of each layer's convolution and (where present) BatchNorm.
  public let convIndex: [Int]
  public let bnIndex: [Int?]

  init(layers: [(conv: Int, layout: TensorLayout, bn: Int?, channels: Int)]) {
    var b = NetworkSpecBuilder()
    for l in layers {
      b.parameter("main.\(l.conv).weight", l.layout, .normal(mean: 0, std: 0.02))
      if let bn = l.bn {
        b.parameter("main.\(bn).weight", .vector(l.channels), .normal(mean: 1, std: 0.02))
        b.parameter("main.\(bn).bias", .vector(l.channels), .constant(0))
        b.buffer("main.\(bn).running_mean", .vector(l.channels), .constant(0))
        b.buffer("main.\(bn).running_var", .vector(l.channels), .constant(1))
      }
    }
    self.init(b, convNames: layers.map { "main.\($0.conv).weight" },
              norms: layers.map { $0.bn.map { BatchNormNames(prefix: "main.\($0).", conditional: false) } },
              spectralNorms: [], attention: nil, convIndex: layers.map { $0.conv }, bnIndex: layers.map { $0.bn })
  }

  init(_ b: NetworkSpecBuilder, convNames: [String], norms: [BatchNormNames?], spectralNorms: [SpectralNormSpec],
       attention: AttentionSpec?, convIndex: [Int] = [], bnIndex: [Int?] = []) {
    parameters = b.parameters; buffers = b.buffers
    parameterCount = b.parameterCount; bufferCount = b.bufferCount
    self.convNames = convNames; self.norms = norms; self.spectralNorms = spectralNorms; self.attention = attention
    self.convIndex = convIndex; self.bnIndex = bnIndex
  }

  /// The spectral norm of the weight `name`, if it has one.
  public func spectralNorm(of name: String) -> SpectralNormSpec? { spectralNorms.first { $0.weight == name } }

  public func parameter(named name: String) -> TensorSpec? { parameters.first { $0.name == name } }
  public func buffer(named name: String) -> TensorSpec? { buffers.first { $0.name == name } }
}

/// Lays tensors out one after the other in the parameter and buffer blocks.
struct NetworkSpecBuilder {
  var parameters: [TensorSpec] = [], buffers: [TensorSpec] = []
  var parameterCount = 0, bufferCount = 0

  mutating func parameter(_ name: String, _ layout: TensorLayout, _ initialization: TensorInitialization) {
    parameters.append(TensorSpec(name: name, layout: layout, offset: parameterCount, initialization: initialization))
    parameterCount += layout.count
  }

  mutating func buffer(_ name: String, _ layout: TensorLayout, _ initialization: TensorInitialization) {
    buffers.append(TensorSpec(name: name, layout: layout, offset: bufferCount, initialization: initialization))
    bufferCount += layout.count
  }
}

extension Architecture {
  /// The generator's tensors (DCGAN or SAGAN names).
  public var generatorSpec: NetworkSpec { isSAGAN ? saganGeneratorSpec : dcganGeneratorSpec }
  /// The discriminator's tensors (DCGAN or SAGAN names).
  public var discriminatorSpec: NetworkSpec { isSAGAN ? saganDiscriminatorSpec : dcganDiscriminatorSpec }

  /// The generator's tensors: layer i is `main.(3i)` (ConvTranspose2d) and `main.(3i+1)` (BatchNorm2d).
  var dcganGeneratorSpec: NetworkSpec {
    NetworkSpec(layers: (0..<layerCount).map { i in
      let ci = generatorInputChannels(i), co = generatorChannels(i)
      let layout: TensorLayout = i == 0 ? .projectionWeight(cin: ci, cout: co) : .deconvWeight(cin: ci, cout: co)
      return (3 * i, layout, i < layerCount - 1 ? 3 * i + 1 : nil, co)
    })
  }

  /// The discriminator's tensors: `main.0` Conv2d, then `main.(3i-1)` Conv2d and `main.(3i)`
  /// BatchNorm2d for blocks i >= 1; the final Conv2d(4, 1, 0) has no BatchNorm.
  var dcganDiscriminatorSpec: NetworkSpec {
    // Without BatchNorm (the WGAN-GP critic): an nn.Sequential of Conv2d, LeakyReLU pairs.
    guard discriminatorBatchNorm else {
      return NetworkSpec(layers: (0..<layerCount).map { i in
        (2 * i, .convWeight(cin: discriminatorInputChannels(i), cout: discriminatorChannels(i)), nil,
         discriminatorChannels(i))
      })
    }
    return NetworkSpec(layers: (0..<layerCount).map { i in
      let ci = discriminatorInputChannels(i), co = discriminatorChannels(i)
      let conv = i == 0 ? 0 : 3 * i - 1
      let hasBN = i > 0 && i < layerCount - 1
      return (conv, .convWeight(cin: ci, cout: co), hasBN ? 3 * i : nil, co)
    })
  }
}
