import CGanSystem

/// Element types of safetensors files.
public enum DType: String, Sendable, CaseIterable {
  case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

  public var size: Int {
    switch self {
    case .F64, .I64: return 8
    case .F32, .I32: return 4
    case .F16, .BF16, .I16: return 2
    case .I8, .U8, .BOOL: return 1
    }
  }
}

/// One tensor's header entry; offsets are relative to the data section.
public struct SafeTensorEntry: Sendable, Equatable {
  public var name: String
  public var dtype: DType
  public var shape: [Int]
  public var begin: Int
  public var end: Int
  public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file, validated, then memory-mapped read-only.
///
/// Format: 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`,
/// then the data section. Every check names the file and the problem.
public final class SafeTensorsFile {
  public let path: String
  public let entries: [SafeTensorEntry]
  public let metadata: [String: String]
  private let base: UnsafeMutableRawPointer?
  private let length: Int
  private let dataStart: Int

  /// Upper bound on the JSON header (the reference implementation uses 100 MB).
  public static let maxHeaderBytes = 100_000_000

  public init(path: String) throws(GanError) {
    self.path = path
    func bad(_ reason: String) -> GanError { .invalidFile(path: path, reason: reason) }
    let fd = gs_open(path, O_RDONLY, 0)
    guard fd >= 0 else { throw GanError.system(path: path) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw GanError.system(path: path) }
    guard gs_is_regular(&st) != 0 else { throw bad("not a regular file") }
    let size = Int(st.st_size)
    guard size > 0 else { throw bad("empty file") }
    guard size >= 8 else { throw bad("truncated: \(size) bytes, shorter than the 8-byte header length") }
    guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != gs_map_failed() else {
      throw GanError.system(path: path, "mmap failed: ")
    }
    var ok = false
    defer { if !ok { munmap(map, size) } }
    let headerLength = UInt64(littleEndian: map.loadUnaligned(as: UInt64.self))
    guard headerLength <= UInt64(SafeTensorsFile.maxHeaderBytes) else {
      throw bad("header length \(headerLength) exceeds the \(SafeTensorsFile.maxHeaderBytes)-byte limit")
    }
    guard headerLength <= UInt64(size - 8) else {
      throw bad("header length \(headerLength) runs past the end of the file (\(size) bytes)")
    }
    let hl = Int(headerLength)
    let headerBytes = Array(UnsafeRawBufferPointer(start: map + 8, count: hl))
    let json: JSON
    do { json = try JSON.parse(bytes: headerBytes) } catch {
      throw bad("header is not valid JSON (\(error.description))")
    }
    guard let members = json.objectValue else { throw bad("header is not a JSON object") }
    let dataSize = size - 8 - hl
    var list: [SafeTensorEntry] = []
    var meta: [String: String] = [:]
    for (name, value) in members {
      if name == "__metadata__" {
        guard let m = value.objectValue else { throw bad("__metadata__ is not an object") }
        for (k, v) in m {
          guard let s = v.stringValue else { throw bad("__metadata__ value for \"\(k)\" is not a string") }
          meta[k] = s
        }
        continue
      }
      guard let dt = value["dtype"]?.stringValue else { throw bad("tensor \"\(name)\" has no dtype") }
      guard let dtype = DType(rawValue: dt) else { throw bad("tensor \"\(name)\" has unsupported dtype \(dt)") }
      guard let shapeList = value["shape"]?.arrayValue else { throw bad("tensor \"\(name)\" has no shape") }
      var shape: [Int] = []
      for d in shapeList {
        guard let n = d.intValue, n >= 0, n < (1 << 40) else { throw bad("tensor \"\(name)\" has an invalid shape") }
        shape.append(n)
      }
      guard let offs = value["data_offsets"]?.arrayValue, offs.count == 2,
            let b = offs[0].intValue, let e = offs[1].intValue, b >= 0, e >= b else {
        throw bad("tensor \"\(name)\" has invalid data_offsets")
      }
      guard e <= dataSize else {
        throw bad("tensor \"\(name)\" data [\(b), \(e)) lies outside the \(dataSize)-byte data section")
      }
      var count = 1
      for d in shape {
        let (p, o) = count.multipliedReportingOverflow(by: d)
        guard !o else { throw bad("tensor \"\(name)\" shape overflows") }
        count = p
      }
      let (bytes, o) = count.multipliedReportingOverflow(by: dtype.size)
      guard !o else { throw bad("tensor \"\(name)\" shape \(formatList(shape)) of \(dtype.rawValue) overflows") }
      guard bytes == e - b else {
        throw bad("tensor \"\(name)\" has \(e - b) bytes but shape \(formatList(shape)) of \(dtype.rawValue) needs " +
                  "\(bytes)")
      }
      list.append(SafeTensorEntry(name: name, dtype: dtype, shape: shape, begin: b, end: e))
    }
    let sorted = list.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
    for i in sorted.indices.dropFirst() where sorted[i].begin < sorted[i - 1].end {
      throw bad("tensors \"\(sorted[i - 1].name)\" and \"\(sorted[i].name)\" overlap")
    }
    entries = list
    metadata = meta
    base = map
    length = size
    dataStart = 8 + hl
    ok = true
  }

  deinit {
    if let b = base { munmap(b, length) }
  }

  public func entry(_ name: String) -> SafeTensorEntry? { entries.first { $0.name == name } }

  /// Raw bytes of a tensor inside the mapping (valid while the file object lives).
  public func rawBytes(_ e: SafeTensorEntry) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: UnsafeRawPointer(base!) + dataStart + e.begin, count: e.end - e.begin)
  }

  /// A float32 tensor copied out, checked for dtype and (when given) shape.
  public func floats(_ name: String, shape: [Int]? = nil) throws(GanError) -> [Float] {
    guard let e = entry(name) else { throw GanError.invalidFile(path: path, reason: "missing tensor \"\(name)\"") }
    guard e.dtype == .F32 else {
      throw GanError.invalidFile(path: path, reason: "tensor \"\(name)\" is \(e.dtype.rawValue), expected F32")
    }
    if let s = shape, s != e.shape {
      throw GanError.invalidFile(path: path,
                                 reason: "tensor \"\(name)\" has shape \(formatList(e.shape)), expected " +
                                         "\(formatList(s))")
    }
    let raw = rawBytes(e)
    return [Float](unsafeUninitializedCapacity: e.elementCount) { buf, n in
      for i in 0..<e.elementCount {
        buf[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
      }
      n = e.elementCount
    }
  }

  /// A float32 tensor read in place from the mapping (copied only when it is not 4-byte aligned),
  /// checked for dtype and shape; then its pages are released (MADV_DONTNEED), so a loader that
  /// converts tensors one by one never holds the whole file in memory.
  public func withFloats<R>(_ name: String, shape: [Int],
                            _ body: (UnsafePointer<Float>) throws(GanError) -> R) throws(GanError) -> R {
    guard let e = entry(name) else { throw GanError.invalidFile(path: path, reason: "missing tensor \"\(name)\"") }
    guard e.dtype == .F32 else {
      throw GanError.invalidFile(path: path, reason: "tensor \"\(name)\" is \(e.dtype.rawValue), expected F32")
    }
    guard shape == e.shape else {
      throw GanError.invalidFile(path: path,
                                 reason: "tensor \"\(name)\" has shape \(formatList(e.shape)), expected " +
                                         "\(formatList(shape))")
    }
    defer { release(e) }
    let raw = rawBytes(e)
    #if _endian(little)
    if UInt(bitPattern: raw.baseAddress) % 4 == 0 {
      return try body(raw.baseAddress!.assumingMemoryBound(to: Float.self))
    }
    #endif
    let copy = UnsafeMutablePointer<Float>.allocate(capacity: max(e.elementCount, 1))
    defer { copy.deallocate() }
    for i in 0..<e.elementCount {
      copy[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
    }
    return try body(copy)
  }

  /// A tensor's bytes read with pread into a temporary buffer (freed after `body`) instead of through
  /// the mapping: a loader that packs tensors one by one then holds at most one source tensor,
  /// whatever the kernel maps around page faults (fault-around, large folios).
  public func withCopiedBytes<R>(_ e: SafeTensorEntry,
                                 _ body: (UnsafeRawBufferPointer) throws(GanError) -> R) throws(GanError) -> R {
    let n = e.end - e.begin
    // Its own anonymous mapping, returned to the system at once (a malloc'd block of this size
    // would raise glibc's mmap threshold and stay in the heap).
    guard let buffer = mmap(nil, max(n, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                            0), buffer != gs_map_failed() else {
      throw GanError.system(path: path, "mmap of \(n) bytes failed: ")
    }
    defer { munmap(buffer, max(n, 1)) }
    let fd = gs_open(path, O_RDONLY, 0)
    guard fd >= 0 else { throw GanError.system(path: path) }
    defer { close(fd) }
    var done = 0
    while done < n {
      let r = pread(fd, buffer + done, n - done, off_t(dataStart + e.begin + done))
      if r < 0 && gs_errno() == EINTR { continue }
      guard r > 0 else {
        let cause = r < 0 ? String(cString: strerror(gs_errno())) : "unexpected end of file"
        throw GanError.io(path: path, reason: "reading tensor \"\(e.name)\": " + cause)
      }
      done += r
    }
    return try body(UnsafeRawBufferPointer(start: buffer, count: n))
  }

  /// Drops every resident page of the data section (they are re-read if touched).
  public func releaseAll() {
    guard let b = base else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let first = dataStart / page * page
    if length > first { madvise(b + first, length - first, Int32(MADV_DONTNEED)) }
  }

  /// Drops the resident pages lying wholly inside a tensor's bytes (they are re-read if touched).
  public func release(_ e: SafeTensorEntry) {
    guard let b = base else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = dataStart + e.begin, end = dataStart + e.end
    let first = (start + page - 1) / page * page, last = end / page * page
    if last > first { madvise(b + first, last - first, Int32(MADV_DONTNEED)) }
  }

  /// An integer tensor (I64 or I32) as Int64 values.
  public func integers(_ name: String) throws(GanError) -> [Int64] {
    guard let e = entry(name) else { throw GanError.invalidFile(path: path, reason: "missing tensor \"\(name)\"") }
    let raw = rawBytes(e)
    switch e.dtype {
    case .I64: return (0..<e.elementCount).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0,
        as: Int64.self)) }
    case .I32: return (0..<e.elementCount).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0,
        as: Int32.self))) }
    default: throw GanError.invalidFile(path: path,
                                        reason: "tensor \"\(name)\" is \(e.dtype.rawValue), expected I64 or I32")
    }
  }
}

/// Builds a safetensors file in memory and writes it atomically (temporary file, fsync, rename).
/// The data section starts 64-byte aligned; tensors are laid out largest-alignment first so the
/// big ones stay 64-byte aligned while the data remains contiguous (as PyTorch's loader requires).
public struct SafeTensorsWriter {
  private var items: [(name: String, dtype: DType, shape: [Int], bytes: [UInt8])] = []
  public var metadata: [(String, String)] = []

  public init() {}

  public mutating func add(_ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int]) {
    precondition(shape.reduce(1, *) == floats.count,
                 "shape \(formatList(shape)) does not match \(floats.count) floats for \(name)")
    var bytes = [UInt8](repeating: 0, count: floats.count * 4)
    bytes.withUnsafeMutableBytes { raw in
      for i in 0..<floats.count { raw.storeBytes(of: floats[i].bitPattern.littleEndian, toByteOffset: 4 * i,
                                                 as: UInt32.self) }
    }
    items.append((name, .F32, shape, bytes))
  }

  public mutating func add(_ name: String, floats: [Float], shape: [Int]) {
    floats.withUnsafeBufferPointer { add(name, floats: $0, shape: shape) }
  }

  public mutating func add(_ name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
    precondition(shape.reduce(1, *) * dtype.size == bytes.count, "byte count mismatch for \(name)")
    items.append((name, dtype, shape, bytes))
  }

  public mutating func add(_ name: String, int64: [Int64], shape: [Int]) {
    var bytes = [UInt8](repeating: 0, count: int64.count * 8)
    bytes.withUnsafeMutableBytes { raw in
      for i in 0..<int64.count { raw.storeBytes(of: int64[i].littleEndian, toByteOffset: 8 * i, as: Int64.self) }
    }
    add(name, dtype: .I64, shape: shape, bytes: bytes)
  }

  /// The file's bytes.
  public func serialize() -> [UInt8] {
    // Tensors whose size is a multiple of 64 first (they stay aligned), the rest after.
    let order = items.indices.sorted { a, b in
      let ka = items[a].bytes.count % 64 == 0 ? 0 : 1, kb = items[b].bytes.count % 64 == 0 ? 0 : 1
      return ka != kb ? ka < kb : a < b
    }
    var offset = 0
    var members: [(String, JSON)] = []
    if !metadata.isEmpty {
      members.append(("__metadata__", .object(metadata.map { ($0.0, JSON.string($0.1)) })))
    }
    for i in order {
      let it = items[i]
      members.append((it.name, .object([
        ("dtype", .string(it.dtype.rawValue)),
        ("shape", .array(it.shape.map { .number(Double($0)) })),
        ("data_offsets", .array([.number(Double(offset)), .number(Double(offset + it.bytes.count))])),
      ])))
      offset += it.bytes.count
    }
    var header = Array(JSON.object(members).serialized.utf8)
    while (8 + header.count) % 64 != 0 { header.append(0x20) }
    var out: [UInt8] = []
    out.reserveCapacity(8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: header)
    for i in order { out.append(contentsOf: items[i].bytes) }
    return out
  }

  public func write(to path: String) throws(GanError) {
    try writeFileAtomically(path: path, bytes: serialize())
  }
}
