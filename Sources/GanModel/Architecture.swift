/// A DCGAN as in Radford et al. and pytorch/examples `dcgan`, for 32, 64 or 128 px images.
///
/// Generator, L = log2(imageSize) - 1 transposed convolutions:
///   z (nz) -> ConvT(nz, ngf*2^(L-2), 4, 1, 0) -> 4x4 -> ConvT(4, 2, 1) blocks halving channels and
///   doubling the size -> ConvT(ngf, nc, 4, 2, 1) -> Tanh. BatchNorm + ReLU after all but the last.
/// Discriminator, L convolutions: Conv(nc, ndf, 4, 2, 1) + LeakyReLU(0.2), blocks Conv(4, 2, 1) +
///   BatchNorm + LeakyReLU doubling channels down to 4x4, then Conv(ndf*2^(L-2), 1, 4, 1, 0).
public struct Architecture: Equatable, Sendable, CustomStringConvertible {
  public var imageSize: Int
  public var nz: Int
  public var ngf: Int
  public var ndf: Int
  public var nc: Int

  public static let supportedImageSizes = [32, 64, 128]

  public init(imageSize: Int = 64, nz: Int = 100, ngf: Int = 64, ndf: Int = 64, nc: Int = 3) throws(GanError) {
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
  }

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

  public var description: String {
    "DCGAN \(imageSize)x\(imageSize)x\(nc), nz \(nz), ngf \(ngf), ndf \(ndf)"
  }

  /// `{"image_size":64,"nz":100,"ngf":64,"ndf":64,"nc":3}` as stored in `gan.arch`.
  public var json: String { jsonValue.serialized }

  public var jsonValue: JSON {
    JSON.object([("image_size", .number(Double(imageSize))), ("nz", .number(Double(nz))), ("ngf", .number(Double(ngf))),
                 ("ndf", .number(Double(ndf))), ("nc", .number(Double(nc)))])
  }

  public init(json text: String) throws(GanError) {
    let v = try JSON.parse(text)
    func int(_ key: String) throws(GanError) -> Int {
      guard let n = v[key]?.intValue else { throw GanError.invalidArchitecture("gan.arch lacks \"\(key)\"") }
      return n
    }
    try self.init(imageSize: try int("image_size"), nz: try int("nz"), ngf: try int("ngf"),
                  ndf: try int("ndf"), nc: try int("nc"))
  }
}
