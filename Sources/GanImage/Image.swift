import CGanImageIO
import CGanKernels
import GanModel

/// An 8-bit image, row-major, `channels` interleaved (1 gray, 3 RGB).
public struct Image: Equatable, Sendable {
  public var width: Int
  public var height: Int
  public var channels: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    precondition(pixels.count == width * height * channels, "pixel count mismatch")
    self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
  }

  public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
    self.init(width: width, height: height, channels: channels,
              pixels: [UInt8](repeating: fill, count: width * height * channels))
  }

  /// Decodes a PNG or JPEG (detected by content) to gray (1) or RGB (3); alpha over white.
  public static func load(path: String, channels: Int) throws(GanError) -> Image {
    var data: UnsafeMutablePointer<UInt8>?
    var w: Int32 = 0, h: Int32 = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc = gi_decode_file(path, Int32(channels), &data, &w, &h, &err, err.count)
    guard rc == 0, let d = data else {
      throw GanError.io(path: path, reason: cErrorText(err))
    }
    defer { gi_free(d) }
    let n = Int(w) * Int(h) * channels
    return Image(width: Int(w), height: Int(h), channels: channels, pixels: Array(UnsafeBufferPointer(start: d,
        count: n)))
  }

  /// Writes an 8-bit PNG.
  public func writePNG(path: String) throws(GanError) {
    var failure: GanError?
    pixels.withUnsafeBufferPointer { p in
      do throws(GanError) { try Image.writePNG(path: path, pixels: p.baseAddress!, width: width, height: height,
                                               channels: channels) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  /// Writes width x height pixels of `channels` (1 or 3) interleaved bytes as an 8-bit PNG.
  public static func writePNG(path: String, pixels: UnsafePointer<UInt8>, width: Int, height: Int,
                              channels: Int) throws(GanError) {
    var err = [CChar](repeating: 0, count: 256)
    let rc = gi_write_png(path, pixels, Int32(width), Int32(height), Int32(channels), &err, err.count)
    guard rc == 0 else { throw GanError.io(path: path, reason: cErrorText(err)) }
  }

  /// The PNG file's bytes for width x height pixels of `channels` (1 or 3) interleaved bytes, the
  /// same bytes `writePNG` writes.
  public static func encodePNG(pixels: UnsafePointer<UInt8>, width: Int, height: Int,
                               channels: Int) throws(GanError) -> [UInt8] {
    var err = [CChar](repeating: 0, count: 256)
    var data: UnsafeMutablePointer<UInt8>?
    var length = 0
    let rc = gi_encode_png(pixels, Int32(width), Int32(height), Int32(channels), &data, &length, &err, err.count)
    guard rc == 0, let data else { throw GanError.io(path: "(memory)", reason: cErrorText(err)) }
    defer { gi_free(data) }
    return Array(UnsafeBufferPointer(start: data, count: length))
  }

  /// This image's PNG file bytes.
  public func encodePNG() throws(GanError) -> [UInt8] {
    var result: Result<[UInt8], GanError> = .success([])
    pixels.withUnsafeBufferPointer { p in
      do throws(GanError) {
        result = .success(try Image.encodePNG(pixels: p.baseAddress!, width: width, height: height,
                                              channels: channels))
      } catch { result = .failure(error) }
    }
    return try result.get()
  }

  /// Copies a size x size tile of this image's channels into cell `index` of a grid laid out as
  /// `grid` makes it (`columns` per row, `padding` px around each cell).
  public mutating func place(tile: UnsafePointer<UInt8>, size: Int, at index: Int, columns: Int, padding: Int = 2) {
    let cols = min(columns, (width - padding) / (size + padding))
    let gx = (index % cols) * (size + padding) + padding, gy = (index / cols) * (size + padding) + padding
    let rowBytes = size * channels
    pixels.withUnsafeMutableBufferPointer { out in
      for y in 0..<size {
        (out.baseAddress! + ((gy + y) * width + gx) * channels).update(from: tile + y * rowBytes, count: rowBytes)
      }
    }
  }

  /// The largest centred square, area-resized to size x size (each output pixel averages the
  /// source area it covers, with fractional edge weights).
  public func centerCropResized(to size: Int) -> Image {
    let side = min(width, height)
    let x0 = (width - side) / 2, y0 = (height - side) / 2
    if side == size {
      var out = Image(width: size, height: size, channels: channels)
      for y in 0..<size {
        let src = ((y0 + y) * width + x0) * channels
        for i in 0..<(size * channels) { out.pixels[y * size * channels + i] = pixels[src + i] }
      }
      return out
    }
    // Separable weights: output o covers source [o * scale, (o + 1) * scale).
    let scale = Double(side) / Double(size)
    func weights() -> [[(Int, Double)]] {
      (0..<size).map { o in
        let a = Double(o) * scale, b = Double(o + 1) * scale
        var w: [(Int, Double)] = []
        var s = Int(a.rounded(.down))
        while Double(s) < b && s < side {
          let lo = max(a, Double(s)), hi = min(b, Double(s + 1))
          if hi > lo { w.append((s, (hi - lo) / scale)) }
          s += 1
        }
        return w
      }
    }
    let wts = weights()
    // Horizontal pass over the cropped rows, then vertical.
    var tmp = [Double](repeating: 0, count: side * size * channels)
    for y in 0..<side {
      let row = ((y0 + y) * width + x0) * channels
      for (ox, list) in wts.enumerated() {
        for c in 0..<channels {
          var acc = 0.0
          for (sx, w) in list { acc += w * Double(pixels[row + sx * channels + c]) }
          tmp[(y * size + ox) * channels + c] = acc
        }
      }
    }
    var out = Image(width: size, height: size, channels: channels)
    for (oy, list) in wts.enumerated() {
      for ox in 0..<size {
        for c in 0..<channels {
          var acc = 0.0
          for (sy, w) in list { acc += w * tmp[(sy * size + ox) * channels + c] }
          out.pixels[(oy * size + ox) * channels + c] = UInt8(max(0, min(255, acc.rounded())))
        }
      }
    }
    return out
  }

  /// A grid of `count` images from NHWC floats in [-1, 1] (torchvision make_grid layout: `columns`
  /// per row, `padding` px of `padValue` around each).
  public static func grid(nhwc: UnsafePointer<Float>, count: Int, size: Int, channels: Int, columns: Int,
                          padding: Int = 2, padValue: UInt8 = 0) -> Image {
    let cols = min(columns, count), rows = (count + cols - 1) / cols
    let cell = size + padding
    var out = Image(width: cols * cell + padding, height: rows * cell + padding, channels: channels, fill: padValue)
    for i in 0..<count {
      let gx = (i % cols) * cell + padding, gy = (i / cols) * cell + padding
      let src = nhwc + i * size * size * channels
      let rowFloats = size * channels, width = out.width
      out.pixels.withUnsafeMutableBufferPointer { px in
        for y in 0..<size {
          // The kernels' pixel rule, one image row (size * channels values) at a time.
          gk_f32_to_u8_ref(rowFloats, src + y * rowFloats, px.baseAddress! + ((gy + y) * width + gx) * channels)
        }
      }
    }
    return out
  }
}

/// Largest file readMaybeGzip returns by default, after decompression (2 GiB): a gzip bomb stops here.
public let maxReadBytes = 1 << 31

/// Reads a whole file, decompressing gzip when the file is gzip-compressed; more than `limit`
/// bytes is an error naming the file.
public func readMaybeGzip(path: String, limit: Int = maxReadBytes) throws(GanError) -> [UInt8] {
  var data: UnsafeMutablePointer<UInt8>?
  var len = 0
  var err = [CChar](repeating: 0, count: 256)
  guard gi_read_gz(path, limit, &data, &len, &err, err.count) == 0, let d = data else {
    throw GanError.io(path: path, reason: cErrorText(err))
  }
  defer { gi_free(d) }
  return Array(UnsafeBufferPointer(start: d, count: len))
}

/// The NUL-terminated reason a CGanImageIO call wrote into `err`.
func cErrorText(_ err: [CChar]) -> String {
  String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
