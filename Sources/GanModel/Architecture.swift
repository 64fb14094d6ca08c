/// The model family: the DCGAN of Radford et al. and pytorch/examples `dcgan`, or the SAGAN family
/// (spectral norm, self-attention, optionally class-conditional; tools/sagan_reference.py).
public enum ModelFamily: String, Sendable, Equatable, CaseIterable {
  case dcgan, sagan
}

/// A DCGAN as in Radford et al. and pytorch/examples `dcgan`, for 32, 64 or 128 px images, or the
/// SAGAN built on the same backbone.
///
/// Generator, L = log2(imageSize) - 1 transposed convolutions:
///   z (nz) -> ConvT(nz, ngf*2^(L-2), 4, 1, 0) -> 4x4 -> ConvT(4, 2, 1) blocks halving channels and
///   doubling the size -> ConvT(ngf, nc, 4, 2, 1) -> Tanh. BatchNorm + ReLU after all but the last.
/// Discriminator, L convolutions: Conv(nc, ndf, 4, 2, 1) + LeakyReLU(0.2), blocks Conv(4, 2, 1) +
///   BatchNorm + LeakyReLU doubling channels down to 4x4, then Conv(ndf*2^(L-2), 1, 4, 1, 0).
/// SAGAN: the same layers with spectral norm (all but G's output layer), D without BatchNorm and
///   with LeakyReLU(0.1), a self-attention block after the G and D blocks whose output is
///   `attentionAt` pixels wide, and with `classes` > 0 conditional BatchNorm in G and a projection
///   head in D.
public struct Architecture: Equatable, Sendable, CustomStringConvertible {
  public var imageSize: Int
  public var nz: Int
  public var ngf: Int
  public var ndf: Int
  public var nc: Int
  public var family: ModelFamily
  /// Classes of a class-conditional SAGAN; 0: unconditional.
  public var classes: Int
  /// SAGAN: self-attention after the G block and the D block whose output is this many pixels
  /// wide (8 to imageSize / 2); 0: no attention. Always 0 for DCGAN.
  public var attentionAt: Int
  /// DCGAN: BatchNorm in D's blocks. false: the WGAN-GP critic (Conv + LeakyReLU throughout; the
  /// gradient penalty is per sample, which batch statistics would break). SAGAN's D has none.
  public var discriminatorBatchNorm: Bool

  public static let supportedImageSizes = [32, 64, 128]
  /// The largest class count (embedding tables of classes x channels).
  public static let maxClasses = 10_000

  public init(imageSize: Int = 64, nz: Int = 100, ngf: Int = 64, ndf: Int = 64, nc: Int = 3,
              family: ModelFamily = .dcgan, classes: Int = 0, attentionAt: Int? = nil,
              discriminatorBatchNorm: Bool = true) throws(GanError) {
    guard Architecture.supportedImageSizes.contains(imageSize) else {
      throw GanError.invalidArchitecture("image size \(imageSize) is not one of 32, 64, 128")
    }
    guard nz > 0, ngf > 0, ndf > 0 else {
      throw GanError.invalidArchitecture("nz, ngf and ndf must be positive (nz \(nz), ngf \(ngf), ndf \(ndf))")
    }
    guard nc == 1 || nc == 3 else {
      throw GanError.invalidArchitecture("nc must be 1 (gray) or 3 (RGB), got \(nc)")
    }
    self.imageSize = imageSize; self.nz = nz; self.ngf = ngf; self.ndf = ndf; self.nc = nc
    self.family = family
    self.classes = 0
    self.attentionAt = 0
    self.discriminatorBatchNorm = family == .dcgan && discriminatorBatchNorm
    guard family == .sagan else {
      guard classes == 0 else { throw GanError.invalidArchitecture("class-conditional models are SAGANs (--arch sagan)") }
      guard attentionAt == nil || attentionAt == 0 else {
        throw GanError.invalidArchitecture("self-attention is part of the SAGAN family (--arch sagan)")
      }
      return
    }
    guard classes >= 0 && classes <= Architecture.maxClasses else {
      throw GanError.invalidArchitecture("classes must be 0 (unconditional) to \(Architecture.maxClasses), got \(classes)")
    }
    self.classes = classes
    let at = attentionAt ?? 16
    if at != 0 {
      guard at >= 8 && at <= imageSize / 2 && at & (at - 1) == 0 else {
        throw GanError.invalidArchitecture("attention at \(at) px: must be 0 (none) or a power of two from 8 to " +
                                           "\(imageSize / 2) for \(imageSize) px images")
      }
      self.attentionAt = at
      let cg = generatorChannels(generatorAttentionLayer!), cd = discriminatorChannels(discriminatorAttentionLayer!)
      guard cg >= 8 && cd >= 8 else {
        throw GanError.invalidArchitecture("attention at \(at) px needs at least 8 channels there (G has \(cg), D " +
                                           "\(cd)): its query and key have channels / 8")
      }
    }
  }

  public var isSAGAN: Bool { family == .sagan }
  public var isConditional: Bool { classes > 0 }

  /// Transposed convolutions in G, and convolutions in D.
  public var layerCount: Int {
    var l = 0, s = imageSize
    while s > 1 { s >>= 1; l += 1 }
    return l - 1
  }

  /// Output channels of generator layer i (0-based); the last is nc.
  public func generatorChannels(_ i: Int) -> Int {
    i == layerCount - 1 ? nc : ngf << (layerCount - 2 - i)
  }

  /// Input channels of generator layer i.
  public func generatorInputChannels(_ i: Int) -> Int { i == 0 ? nz : generatorChannels(i - 1) }

  /// Output side of generator layer i: 4, 8, ..., imageSize.
  public func generatorSize(_ i: Int) -> Int { 4 << i }

  /// Output channels of discriminator layer i; the last is 1.
  public func discriminatorChannels(_ i: Int) -> Int { i == layerCount - 1 ? 1 : ndf << i }

  public func discriminatorInputChannels(_ i: Int) -> Int { i == 0 ? nc : discriminatorChannels(i - 1) }

  /// Input side of discriminator layer i: imageSize, imageSize/2, ..., 4.
  public func discriminatorInputSize(_ i: Int) -> Int { imageSize >> i }

  /// The hidden generator layer (1 ... L-2) followed by self-attention, if any: the one whose
  /// output is attentionAt pixels wide.
  public var generatorAttentionLayer: Int? {
    attentionAt == 0 ? nil : (1..<(layerCount - 1)).first { generatorSize($0) == attentionAt }
  }

  /// The discriminator layer (0 ... L-2) followed by self-attention, if any.
  public var discriminatorAttentionLayer: Int? {
    attentionAt == 0 ? nil : (0..<(layerCount - 1)).first { discriminatorInputSize($0) / 2 == attentionAt }
  }

  /// LeakyReLU slope of the discriminator: 0.2 (DCGAN), 0.1 (SAGAN).
  public var discriminatorSlope: Float { isSAGAN ? 0.1 : 0.2 }

  public var description: String {
    guard isSAGAN else {
      return "DCGAN \(imageSize)x\(imageSize)x\(nc), nz \(nz), ngf \(ngf), ndf \(ndf)"
        + (discriminatorBatchNorm ? "" : ", critic without BatchNorm")
    }
    return "SAGAN \(imageSize)x\(imageSize)x\(nc), nz \(nz), ngf \(ngf), ndf \(ndf), "
      + (isConditional ? "\(classes) classes" : "unconditional") + ", "
      + (attentionAt == 0 ? "no attention" : "attention at \(attentionAt) px")
  }

  /// `{"image_size":64,"nz":100,"ngf":64,"ndf":64,"nc":3}` as stored in `gan.arch`; SAGANs add
  /// `"arch":"sagan","classes":10,"attention_at":16`.
  public var json: String { jsonValue.serialized }

  public var jsonValue: JSON {
    var fields: [(String, JSON)] = [("image_size", .number(Double(imageSize))), ("nz", .number(Double(nz))),
                                    ("ngf", .number(Double(ngf))), ("ndf", .number(Double(ndf))),
                                    ("nc", .number(Double(nc)))]
    if isSAGAN {
      fields = [("arch", .string(family.rawValue))] + fields
        + [("classes", .number(Double(classes))), ("attention_at", .number(Double(attentionAt)))]
    } else if !discriminatorBatchNorm {
      fields.append(("d_batchnorm", .bool(false)))
    }
    return JSON.object(fields)
  }

  public init(json text: String) throws(GanError) {
    let v = try JSON.parse(text)
    func int(_ key: String) throws(GanError) -> Int {
      guard let n = v[key]?.intValue else { throw GanError.invalidArchitecture("gan.arch lacks \"\(key)\"") }
      return n
    }
    var family = ModelFamily.dcgan
    if let a = v["arch"] {
      guard let s = a.stringValue, let f = ModelFamily(rawValue: s) else {
        throw GanError.invalidArchitecture("gan.arch: \"arch\" must be \"dcgan\" or \"sagan\"")
      }
      family = f
    }
    let sagan = family == .sagan
    var batchNorm = true
    if let b = v["d_batchnorm"] {
      guard case .bool(let flag) = b else { throw GanError.invalidArchitecture("gan.arch: \"d_batchnorm\" must be true or false") }
      batchNorm = flag
    }
    try self.init(imageSize: try int("image_size"), nz: try int("nz"), ngf: try int("ngf"),
                  ndf: try int("ndf"), nc: try int("nc"), family: family,
                  classes: sagan ? try int("classes") : 0, attentionAt: sagan ? try int("attention_at") : nil,
                  discriminatorBatchNorm: batchNorm)
  }
}
