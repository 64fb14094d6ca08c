import Foundation
import GanImage
import GanModel

/// Builds (or reuses) the uint8 cache of a data source at a given size and channel count.
public enum DatasetLoader {
  public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

  /// Default cache folder: $XDG_CACHE_HOME/swift-gan or ~/.cache/swift-gan.
  public static var defaultCacheDirectory: String {
    let env = ProcessInfo.processInfo.environment
    if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/swift-gan" }
    return (env["HOME"] ?? "/tmp") + "/.cache/swift-gan"
  }

  /// Loads `source` as size x size x channels images, reusing the cache when the inputs (paths,
  /// sizes and modification times) are unchanged. `progress` receives human-readable lines. When
  /// files were unreadable, their whole list ("path: reason" per line) is written to
  /// `unreadableListPath` (if given), also when no file at all was usable.
  public static func load(_ source: DataSource, size: Int, channels: Int,
                          cacheDirectory: String = defaultCacheDirectory, unreadableListPath: String? = nil,
                          progress: (String) -> Void = { _ in }) throws -> Dataset {
    let fm = FileManager.default
    var fp = Fingerprint()
    fp.add("swift-gan dataset v3 \(size) \(channels)")  // v3: the .folders file beside the cache
    var files: [String] = []
    switch source {
    case .folder(let root):
      let rootURL = URL(fileURLWithPath: root)
      guard let e = fm.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey],
                                  options: [.skipsHiddenFiles]) else {
        throw DataError("\(root): cannot list the folder")
      }
      for case let url as URL in e where imageExtensions.contains(url.pathExtension.lowercased()) {
        files.append(url.path)
      }
      files.sort()
      guard !files.isEmpty else {
        throw DataError("\(root): no .png, .jpg or .jpeg images found (searched recursively)")
      }
      fp.add("folder " + rootURL.standardizedFileURL.path)
    case .idx(let paths):
      files = paths
      fp.add("idx")
    case .npy(let p):
      files = [p]
      fp.add("npy")
    }
    for f in files {
      let a = try? fm.attributesOfItem(atPath: f)
      fp.add(f)
      fp.add(UInt64(bitPattern: (a?[.size] as? NSNumber)?.int64Value ?? -1))  // -1: missing (reported when read)
      fp.add(UInt64(bitPattern: Int64(((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000)))
    }
    try fm.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
    let cachePath = cacheDirectory + "/" + fp.hex + ".gandata"
    let skippedPath = cachePath + ".skipped"
    let foldersPath = cachePath + ".folders"  // folder sources: each cached image's class folder, a line each
    func writeUnreadableList(_ lines: [String]) {
      guard let path = unreadableListPath, !lines.isEmpty else { return }
      try? fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try? writeFileAtomically(path: path, bytes: Array(lines.map { $0 + "\n" }.joined().utf8))
    }
    if fm.fileExists(atPath: cachePath), let ds = try? Dataset(cachePath: cachePath, unreadableFiles: []) {
      let note = (try? String(contentsOfFile: skippedPath, encoding: .utf8)) ?? ""
      let lines = note.split(separator: "\n").map(String.init)
      var folders: [String] = []
      if case .folder = source {
        let text = (try? String(contentsOfFile: foldersPath, encoding: .utf8)) ?? ""
        folders = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
      }
      if case .folder = source, folders.count != ds.count {
        progress("dataset: \(foldersPath) does not match the cache; rebuilding it")
      } else {
        progress("dataset: \(ds.count) images \(size)x\(size)x\(channels) from cache \(cachePath)")
        writeUnreadableList(lines)
        return try Dataset(cachePath: cachePath, unreadableFiles: lines, imageFolders: folders)
      }
    }
    // Build: an atomic file (temporary, fsync, rename, directory fsync), its header rewritten
    // with the count at the end; a failure on the way leaves no cache file.
    let out = try AtomicFile(path: cachePath)
    var count = 0
    var unreadable: [String] = []
    var folders: [String] = []
    try out.write(DatasetCache.Header(count: 0, size: size, channels: channels).bytes)
    func emit(_ img: Image) throws {
      let fitted = img.width == size && img.height == size ? img : img.centerCropResized(to: size)
      try out.write(fitted.pixels)
      count += 1
    }
    switch source {
    case .folder(let root):
      let rootComponents = URL(fileURLWithPath: root).standardizedFileURL.pathComponents
      let start = Date()
      var lastProgress = start
      for (i, f) in files.enumerated() {
        var img: Image?
        do { img = try Image.load(path: f, channels: channels) } catch { unreadable.append("\(error)") }
        // A cache write failure is not an unreadable image: it ends the build.
        if let img {
          try emit(img)
          // The component below the root, if the file lies deeper than the root itself.
          let parts = URL(fileURLWithPath: f).standardizedFileURL.pathComponents
          let inside = parts.count > rootComponents.count + 1 && Array(parts.prefix(rootComponents.count)) == rootComponents
          folders.append(inside ? parts[rootComponents.count] : "")
        }
        // A line every 2 s and one at the end: long decodes say where they are, short ones stay quiet.
        let now = Date()
        if now.timeIntervalSince(lastProgress) >= 2 || i + 1 == files.count {
          lastProgress = now
          let rate = Double(i + 1) / max(now.timeIntervalSince(start), 1e-3)
          progress("decoding \(i + 1)/\(files.count) images (\(Int(rate))/s), \(unreadable.count) unreadable")
        }
      }
    case .idx(let paths):
      for p in paths {
        for img in try IDX.readImages(path: p) { try emit(padTo32(img, channels: channels)) }
      }
    case .npy(let p):
      let (bytes, shape) = try NPY.readUInt8(path: p)
      guard shape.count == 3 || (shape.count == 4 && (shape[3] == 1 || shape[3] == 3)) else {
        throw DataError("\(p): uint8 array of shape \(shape); expected (N, H, W) or (N, H, W, C) with C 1 or 3")
      }
      let (n, h, w, c) = (shape[0], shape[1], shape[2], shape.count == 4 ? shape[3] : 1)
      for i in 0..<n {
        let px = Array(bytes[(i * h * w * c)..<((i + 1) * h * w * c)])
        try emit(convert(Image(width: w, height: h, channels: c, pixels: px), to: channels))
      }
    }
    writeUnreadableList(unreadable)
    guard count > 0 else {
      let list = unreadableListPath.map { " (all listed in \($0))" } ?? ""
      throw DataError("no usable image: \(unreadable.count) files could not be read\(list); first: " +
                      (unreadable.first ?? "none"))
    }
    try? writeFileAtomically(path: skippedPath, bytes: Array(unreadable.map { $0 + "\n" }.joined().utf8))
    if case .folder = source {
      try writeFileAtomically(path: foldersPath, bytes: Array(folders.map { $0 + "\n" }.joined().utf8))
    }
    try out.write(DatasetCache.Header(count: count, size: size, channels: channels).bytes, at: 0)
    try out.commit()
    let skippedNote = unreadable.isEmpty ? "" : ", \(unreadable.count) unreadable skipped"
    progress("dataset: \(count) images \(size)x\(size)x\(channels) cached in \(cachePath)" + skippedNote)
    return try Dataset(cachePath: cachePath, unreadableFiles: unreadable, imageFolders: folders)
  }

  /// MNIST-family 28x28 images are zero-padded to 32x32 (then resized if another size is asked).
  static func padTo32(_ img: Image, channels: Int) -> Image {
    var src = convert(img, to: channels)
    guard src.width < 32, src.height < 32 else { return src }
    var out = Image(width: 32, height: 32, channels: channels)
    let ox = (32 - src.width) / 2, oy = (32 - src.height) / 2
    for y in 0..<src.height {
      for x in 0..<(src.width * channels) {
        out.pixels[((oy + y) * 32 + ox) * channels + x] = src.pixels[y * src.width * channels + x]
      }
    }
    src = out
    return src
  }

  static func convert(_ img: Image, to channels: Int) -> Image {
    if img.channels == channels { return img }
    var out = Image(width: img.width, height: img.height, channels: channels)
    for i in 0..<(img.width * img.height) {
      if channels == 3 {
        for c in 0..<3 { out.pixels[i * 3 + c] = img.pixels[i] }
      } else {
        let r = Int(img.pixels[i * 3]), g = Int(img.pixels[i * 3 + 1]), b = Int(img.pixels[i * 3 + 2])
        out.pixels[i] = UInt8((299 * r + 587 * g + 114 * b + 500) / 1000)
      }
    }
    return out
  }
}

/// IDX files (the MNIST family): magic 0x00000803 for uint8 images, 0x00000801 for uint8 labels,
/// big-endian dimensions.
public enum IDX {
  static func be(_ b: [UInt8], _ o: Int) -> Int {
    Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
  }

  /// One uint8 label per image (train-labels-idx1-ubyte[.gz]).
  public static func readLabels(path: String) throws -> [UInt8] {
    let b = try readMaybeGzip(path: path)
    guard b.count >= 8, b[0] == 0, b[1] == 0, b[2] == 0x08, b[3] == 1 else {
      throw DataError("\(path): not an IDX labels file (magic 0x00000801)")
    }
    let n = be(b, 4)
    guard n <= b.count - 8 else {
      throw DataError("\(path): truncated IDX labels file (header claims \(n) labels, the file holds \(b.count - 8))")
    }
    return Array(b[8..<(8 + n)])
  }

  public static func readImages(path: String) throws -> [Image] {
    let b = try readMaybeGzip(path: path)
    guard b.count >= 16, b[0] == 0, b[1] == 0, b[2] == 0x08, b[3] == 3 else {
      throw DataError("\(path): not an IDX file of uint8 images (magic 0x00000803)")
    }
    func be(_ o: Int) -> Int { IDX.be(b, o) }
    let (n, h, w) = (be(4), be(8), be(12))
    // Each dimension is below 2^32, so the product fits in Int64 only after a check.
    let (pixels, o1) = h.multipliedReportingOverflow(by: w), (total, o2) = n.multipliedReportingOverflow(by: pixels)
    guard !o1, !o2, h > 0, w > 0, total <= b.count - 16 else {
      throw DataError("\(path): truncated IDX file (header claims \(n) images of \(h)x\(w), the file holds " +
                      "\(b.count - 16) data bytes)")
    }
    return (0..<n).map { i in
      Image(width: w, height: h, channels: 1, pixels: Array(b[(16 + i * h * w)..<(16 + (i + 1) * h * w)]))
    }
  }
}
