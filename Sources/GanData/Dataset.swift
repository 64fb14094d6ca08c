import Foundation
import GanImage
import GanKernels
import GanModel

public struct DataError: Error, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// N images of size x size x channels, uint8 NHWC, memory-mapped from the cache file.
public final class Dataset {
  public let count: Int
  public let size: Int
  public let channels: Int
  /// Where the pixels live (the cache file), and what was skipped while building it.
  public let cachePath: String
  /// Every file skipped while building the cache, as "path: reason" lines, in file order.
  public let unreadableFiles: [String]
  public var skipped: Int { unreadableFiles.count }
  /// For a folder source, each image's folder directly below the root ("" for an image in the
  /// root itself): the ImageFolder class of that image (DatasetLabels). Empty for IDX and .npy.
  public let imageFolders: [String]
  private let map: UnsafeMutableRawPointer
  private let mapLength: Int
  private let pixelOffset: Int

  public var imageBytes: Int { size * size * channels }

  init(cachePath: String, unreadableFiles: [String], imageFolders: [String] = []) throws {
    let fd = open(cachePath, O_RDONLY)
    guard fd >= 0 else { throw DataError("\(cachePath): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    fstat(fd, &st)
    let len = Int(st.st_size)
    guard len >= DatasetCache.headerBytes, let m = mmap(nil, len, PROT_READ, MAP_SHARED, fd, 0), m != MAP_FAILED else {
      throw DataError("\(cachePath): cannot map the dataset cache")
    }
    let header = DatasetCache.Header(raw: UnsafeRawPointer(m))
    guard let h = header, DatasetCache.headerBytes + h.count * h.size * h.size * h.channels == len else {
      munmap(m, len)
      throw DataError("\(cachePath): not a swift-gan dataset cache (or truncated)")
    }
    count = h.count; size = h.size; channels = h.channels
    self.cachePath = cachePath
    self.unreadableFiles = unreadableFiles
    self.imageFolders = imageFolders
    map = m; mapLength = len; pixelOffset = DatasetCache.headerBytes
  }

  deinit { munmap(map, mapLength) }

  /// Pixels of image i.
  public func pixels(_ i: Int) -> UnsafePointer<UInt8> {
    UnsafePointer((map + pixelOffset + i * imageBytes).assumingMemoryBound(to: UInt8.self))
  }

  /// Fills `out` (indices.count, size, size, channels) with images scaled to [-1, 1].
  public func fillBatch<C: Collection>(_ indices: C, into out: UnsafeMutablePointer<Float>) where C.Element == Int {
    var o = out
    for i in indices {
      PixelConvert.toFloat(count: imageBytes, src: pixels(i), dst: o)
      o += imageBytes
    }
  }

  /// An image as a GanImage.Image (for real_samples.png).
  public func image(_ i: Int) -> Image {
    Image(width: size, height: size, channels: channels, pixels: Array(UnsafeBufferPointer(start: pixels(i),
        count: imageBytes)))
  }
}

/// The dataset cache file: a 64-byte header then count x size x size x channels bytes.
enum DatasetCache {
  static let headerBytes = 64
  static let magic: [UInt8] = Array("GANDATA1".utf8)

  struct Header {
    var count: Int, size: Int, channels: Int
    init(count: Int, size: Int, channels: Int) { self.count = count; self.size = size; self.channels = channels }
    init?(raw: UnsafeRawPointer) {
      for i in 0..<8 where raw.load(fromByteOffset: i, as: UInt8.self) != DatasetCache.magic[i] { return nil }
      count = Int(raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
      size = Int(raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian)
      channels = Int(raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self).littleEndian)
    }
    var bytes: [UInt8] {
      var b = DatasetCache.magic
      for v in [count, size, channels] { withUnsafeBytes(of: UInt64(v).littleEndian) { b.append(contentsOf: $0) } }
      return b + [UInt8](repeating: 0, count: DatasetCache.headerBytes - b.count)
    }
  }
}

/// Where and how to read images.
public enum DataSource: Equatable, Sendable {
  /// A folder searched recursively for .png / .jpg / .jpeg (any case).
  case folder(String)
  /// IDX files of the MNIST family (optionally gzip-compressed): images padded to 32x32.
  case idx([String])
  /// A uint8 .npy array (N, H, W, C) or (N, H, W).
  case npy(String)

  /// Debian's dataset-fashion-mnist package.
  public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

  /// `--dataroot` as users give it: "fashion-mnist", a folder, an IDX file or a .npy file.
  public static func resolve(_ dataroot: String) throws -> DataSource {
    let fm = FileManager.default
    if dataroot == "fashion-mnist" {
      let dir = fashionMNISTDirectory
      let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains("train-images") }.sorted()
      guard let f = files.first else {
        throw DataError("fashion-mnist: \(dir) has no train-images file; install it with: apt-get install " +
                        "dataset-fashion-mnist")
      }
      return .idx([dir + "/" + f])
    }
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: dataroot,
                        isDirectory: &isDir) else { throw DataError("\(dataroot): no such file or directory") }
    if isDir.boolValue { return .folder(dataroot) }
    let lower = dataroot.lowercased()
    if lower.hasSuffix(".npy") { return .npy(dataroot) }
    if lower.contains("idx") || lower.contains("ubyte") { return .idx([dataroot]) }
    throw DataError("\(dataroot): not a folder, an IDX file (*idx*ubyte[.gz]) or a .npy file")
  }

  /// Channels the source naturally has (IDX is gray; folders are RGB; npy says so itself).
  public var defaultChannels: Int {
    switch self {
    case .idx: return 1
    case .folder: return 3
    case .npy(let p):
      if let h = try? NPY.readHeader(path: p), h.shape.count == 4 { return h.shape[3] }
      return 1
    }
  }
}
