import GanKernels

/// The tensors of one BatchNorm2d: affine (`weight`, `bias`) or conditional (BatchNorm2d without
/// affine as `norm`, per-class `gain` and `bias` embedding tables of classes x channels).
public struct BatchNormNames: Sendable, Equatable {
  public var conditional: Bool
  /// gamma (channels), or the gain table (classes x channels).
  public var gain: String
  /// beta (channels), or the bias table (classes x channels).
  public var bias: String
  public var runningMean: String
  public var runningVar: String

  public init(prefix p: String, conditional: Bool) {
    self.conditional = conditional
    gain = conditional ? p + "gain.weight" : p + "weight"
    bias = conditional ? p + "bias.weight" : p + "bias"
    runningMean = conditional ? p + "norm.running_mean" : p + "running_mean"
    runningVar = conditional ? p + "norm.running_var" : p + "running_var"
  }
}

/// A weight under torch.nn.utils.spectral_norm: the trained tensor (`weight_orig`), u and v, and
/// how the internal layout is seen as the (out, -1) matrix.
public struct SpectralNormSpec: Sendable, Equatable {
  public var weight: String
  public var u: String
  public var v: String
  public var matrix: SpectralMatrix
}

/// A self-attention block (SAGAN): after `layer`, over `channels` channels, its tensors under
/// `prefix` (`attention.query.weight_orig`, ..., `attention.gamma`).
public struct AttentionSpec: Sendable, Equatable {
  public var layer: Int
  public var channels: Int
  public var prefix: String = "attention."
  /// Query and key width: channels / 8 (heykeetae/Self-Attention-GAN).
  public var keyChannels: Int { channels / 8 }
  public func weight(_ part: String) -> String { prefix + part + ".weight_orig" }
  public func bias(_ part: String) -> String { prefix + part + ".bias" }
  public var gamma: String { prefix + "gamma" }
  public static let parts = ["query", "key", "value"]
}

extension NetworkSpecBuilder {
  /// A spectral-normalized weight `<name>.weight_orig` with its u (rows) and v (columns).
  mutating func spectral(_ name: String, _ layout: TensorLayout, matrix: SpectralMatrix, vLayout: TensorLayout,
                         into norms: inout [SpectralNormSpec]) {
    parameter(name + ".weight_orig", layout, .normal(mean: 0, std: 0.02))
    buffer(name + ".weight_u", .vector(matrix.rows), .unitVector)
    buffer(name + ".weight_v", vLayout, .unitVector)
    norms.append(SpectralNormSpec(weight: name + ".weight_orig", u: name + ".weight_u", v: name + ".weight_v",
                                  matrix: matrix))
  }

  /// A 4x4 (transposed) convolution kept KKIO: rows are output channels, v tap-major.
  mutating func spectralKKIO(_ name: String, _ layout: TensorLayout, cin: Int, cout: Int,
                             into norms: inout [SpectralNormSpec]) {
    spectral(name, layout, matrix: .kkio(inChannels: cin, outChannels: cout), vLayout: .spectralColumns(cin: cin),
             into: &norms)
  }

  mutating func attention(_ a: AttentionSpec, into norms: inout [SpectralNormSpec]) {
    for part in AttentionSpec.parts {
      let cout = part == "value" ? a.channels : a.keyChannels
      spectral(a.prefix + part, .pointwiseWeight(cin: a.channels, cout: cout),
               matrix: .rowMajor(rows: cout, columns: a.channels), vLayout: .vector(a.channels), into: &norms)
      parameter(a.bias(part), .vector(cout), .constant(0))
    }
    parameter(a.gamma, .vector(1), .constant(0))
  }
}

extension Architecture {
  /// The SAGAN generator's tensors with tools/sagan_reference.py's names: `blocks.i.conv.*`
  /// (spectral norm, dim 1), `blocks.i.bn.*` (affine, or conditional: `norm`, `gain`, `bias`),
  /// `attention.*`, `output.weight` (no spectral norm).
  var saganGeneratorSpec: NetworkSpec {
    var b = NetworkSpecBuilder(), sn: [SpectralNormSpec] = [], names: [String] = [], norms: [BatchNormNames?] = []
    let L = layerCount
    var att: AttentionSpec?
    for i in 0..<(L - 1) {
      let cin = generatorInputChannels(i), cout = generatorChannels(i), p = "blocks.\(i)."
      if i == 0 {
        // Internal (cin, ky, kx, cout): the (cout, -1) view's columns are PyTorch's (cin, ky, kx).
        b.spectral(p + "conv", .projectionWeight(cin: cin, cout: cout),
                   matrix: SpectralMatrix(rows: cout, columns: 16 * cin, rowStride: 1, columnStride: cout),
                   vLayout: .vector(16 * cin), into: &sn)
      } else {
        b.spectralKKIO(p + "conv", .deconvWeight(cin: cin, cout: cout), cin: cin, cout: cout, into: &sn)
      }
      names.append(p + "conv.weight_orig")
      let bn = BatchNormNames(prefix: p + "bn.", conditional: isConditional)
      let table: TensorLayout = isConditional ? .matrix(rows: classes, columns: cout) : .vector(cout)
      b.parameter(bn.gain, table, .constant(1))
      b.parameter(bn.bias, table, .constant(0))
      b.buffer(bn.runningMean, .vector(cout), .constant(0))
      b.buffer(bn.runningVar, .vector(cout), .constant(1))
      norms.append(bn)
      if i == generatorAttentionLayer {
        att = AttentionSpec(layer: i, channels: cout)
        b.attention(att!, into: &sn)
      }
    }
    b.parameter("output.weight", .deconvWeight(cin: generatorInputChannels(L - 1), cout: nc), .normal(mean: 0, std: 0.02))
    names.append("output.weight")
    norms.append(nil)
    return NetworkSpec(b, convNames: names, norms: norms, spectralNorms: sn, attention: att)
  }

  /// The SAGAN discriminator's tensors: `blocks.i.conv.*` (spectral norm, no BatchNorm),
  /// `attention.*`, `head.*` (the final Conv2d(C, 1, 4)), and for conditional models the
  /// projection embedding `embed.*` (classes x C, spectral norm).
  var saganDiscriminatorSpec: NetworkSpec {
    var b = NetworkSpecBuilder(), sn: [SpectralNormSpec] = [], names: [String] = []
    let L = layerCount
    var att: AttentionSpec?
    for i in 0..<(L - 1) {
      let cin = discriminatorInputChannels(i), cout = discriminatorChannels(i), p = "blocks.\(i).conv"
      b.spectralKKIO(p, .convWeight(cin: cin, cout: cout), cin: cin, cout: cout, into: &sn)
      names.append(p + ".weight_orig")
      if i == discriminatorAttentionLayer {
        att = AttentionSpec(layer: i, channels: cout)
        b.attention(att!, into: &sn)
      }
    }
    let c = discriminatorInputChannels(L - 1)
    b.spectralKKIO("head", .convWeight(cin: c, cout: 1), cin: c, cout: 1, into: &sn)
    names.append("head.weight_orig")
    if isConditional {
      b.spectral("embed", .matrix(rows: classes, columns: c), matrix: .rowMajor(rows: classes, columns: c),
                 vLayout: .vector(c), into: &sn)
    }
    return NetworkSpec(b, convNames: names, norms: Array(repeating: nil, count: L), spectralNorms: sn, attention: att)
  }
}
