import CGanSystem

/// NumPy .npy files (format 1.0 - 3.0), C order, little-endian float32 or uint8: latents in,
/// raw outputs out, so results compare with PyTorch directly.
public enum NPY {
  public struct Header: Equatable {
    public var descr: String
    public var shape: [Int]
    public var dataOffset: Int
    public var count: Int { shape.reduce(1, *) }
  }

  static func bad(_ path: String, _ r: String) -> GanError { .invalidFile(path: path, reason: r) }

  /// The file's bytes, or only its first `limit` bytes.
  static func readAll(_ path: String, limit: Int = .max) throws(GanError) -> [UInt8] {
    let fd = gs_open(path, O_RDONLY, 0)
    guard fd >= 0 else { throw GanError.system(path: path) }
    defer { close(fd) }
    var st = stat()
    fstat(fd, &st)
    guard gs_is_regular(&st) != 0 else { throw bad(path, "not a regular file") }
    var out = [UInt8](repeating: 0, count: min(Int(st.st_size), limit))
    var got = 0
    while got < out.count {
      let n = out.withUnsafeMutableBytes { CGanSystem.read(fd, $0.baseAddress! + got, $0.count - got) }
      if n <= 0 { throw GanError.io(path: path, reason: "read failed") }
      got += n
    }
    return out
  }

  public static func parseHeader(_ b: [UInt8], path: String) throws(GanError) -> Header {
    guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw bad(path,
        "not a .npy file") }
    let major = b[6]
    let (len, start): (Int, Int) = major == 1 ? (Int(b[8]) | Int(b[9]) << 8, 10)
      : (b.count >= 12 ? (Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24, 12) : (-1, 12))
    guard len >= 0, start + len <= b.count else { throw bad(path, "truncated .npy header") }
    let text = String(decoding: b[start..<(start + len)], as: UTF8.self)
    func field(_ key: String) -> Substring? {
      let needle = Array("'\(key)':".unicodeScalars)
      let hay = Array(text.unicodeScalars)
      guard hay.count >= needle.count else { return nil }
      for i in 0...(hay.count - needle.count) where Array(hay[i..<(i + needle.count)]) == needle {
        var rest = String.UnicodeScalarView()
        rest.append(contentsOf: hay[(i + needle.count)...])
        return Substring(String(rest)).drop { $0 == " " }
      }
      return nil
    }
    guard let d = field("descr"), d.first == "'", let end = d.dropFirst().firstIndex(of: "'") else { throw bad(path,
        "no descr in .npy header") }
    let descr = String(d[d.index(after: d.startIndex)..<end])
    if let f = field("fortran_order"), f.hasPrefix("True") { throw bad(path, "Fortran-order arrays are not supported") }
    guard let s = field("shape"), s.first == "(", let close = s.firstIndex(of: ")") else { throw bad(path,
        "no shape in .npy header") }
    let dims = s[s.index(after: s.startIndex)..<close].split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    var shape: [Int] = [], count = 1
    for d in dims {
      guard let n = Int(d), n >= 0 else { throw bad(path, "invalid shape in .npy header") }
      let (c, o) = count.multipliedReportingOverflow(by: n)
      // At most 2^40 elements: byte counts of any dtype stay far from overflow.
      guard !o, c <= 1 << 40 else { throw bad(path, "shape \(dims.joined(separator: ", ")) has too many elements") }
      count = c
      shape.append(n)
    }
    return Header(descr: descr, shape: shape, dataOffset: start + len)
  }

  /// Only the header: the magic, the version, a length field of at most 4 bytes and at most
  /// 4 GiB of header text in theory, in practice well under 64 KiB (NumPy's format 1.0 limit).
  public static func readHeader(path: String) throws(GanError) -> Header {
    try parseHeader(try readAll(path, limit: 12 + 65_536), path: path)
  }

  /// The file's bytes and header, checked: dtype one of `descrs` (else "expected `dtype`"), and
  /// `width` x count data bytes present. The typed readers below decode from there.
  static func checkedArray(path: String, descrs: [String], dtype: String,
                           width: Int) throws(GanError) -> (bytes: [UInt8], header: Header) {
    let b = try readAll(path)
    let h = try parseHeader(b, path: path)
    guard descrs.contains(h.descr) else { throw bad(path, "dtype \(h.descr), expected \(dtype)") }
    guard h.dataOffset + width * h.count <= b.count else { throw bad(path,
        "truncated: shape \(formatList(h.shape)) needs \(width * h.count) data bytes") }
    return (b, h)
  }

  /// A float32 array and its shape.
  public static func readFloat32(path: String) throws(GanError) -> (values: [Float], shape: [Int]) {
    let (b, h) = try checkedArray(path: path, descrs: ["<f4", "=f4"], dtype: "float32 (<f4)", width: 4)
    let values = b.withUnsafeBytes { raw in
      (0..<h.count).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: h.dataOffset + 4 * $0, as: UInt32.self)))
      }
    }
    return (values, h.shape)
  }

  /// A uint8 array and its shape.
  public static func readUInt8(path: String) throws(GanError) -> (values: [UInt8], shape: [Int]) {
    let (b, h) = try checkedArray(path: path, descrs: ["|u1", "<u1", "u1"], dtype: "uint8 (|u1)", width: 1)
    return (Array(b[h.dataOffset..<(h.dataOffset + h.count)]), h.shape)
  }

  /// A little-endian int64 array and its shape (class labels as NumPy and PyTorch write them).
  public static func readInt64(path: String) throws(GanError) -> (values: [Int64], shape: [Int]) {
    let (b, h) = try checkedArray(path: path, descrs: ["<i8", "=i8"], dtype: "int64 (<i8)", width: 8)
    let values = b.withUnsafeBytes { raw in
      (0..<h.count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: h.dataOffset + 8 * $0, as: Int64.self)) }
    }
    return (values, h.shape)
  }

  /// The header of a float32 .npy file (format 1.0) of `shape`; the data follows it, C order.
  public static func float32Header(shape: [Int]) -> [UInt8] {
    var dims = ""
    for (i, d) in shape.enumerated() { dims += (i == 0 ? "" : ", ") + String(d) }
    if shape.count == 1 { dims += "," }
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff),
                                           UInt8(header.utf8.count >> 8)] + Array(header.utf8)
  }

  /// The bytes of a float32 .npy file (format 1.0).
  public static func encodeFloat32(_ values: UnsafeBufferPointer<Float>, shape: [Int]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count)
    var out = float32Header(shape: shape)
    out.reserveCapacity(out.count + 4 * values.count)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
    return out
  }

  /// Latents from a float32 .npy of shape (N, nz) or (N, nz, 1, 1): the values and (N, nz).
  public static func readLatents(path: String) throws(GanError) -> (values: [Float], count: Int, nz: Int) {
    let (v, shape) = try readFloat32(path: path)
    guard shape.count >= 2, shape.dropFirst(2).allSatisfy({ $0 == 1 }), shape[0] > 0, shape[1] > 0 else {
      throw bad(path, "latents of shape \(formatList(shape)); expected (N, nz) or (N, nz, 1, 1)")
    }
    return (v, shape[0], shape[1])
  }

  /// Latents `fileNZ` wide where the model takes `expected`: an error naming the file.
  public static func checkLatentWidth(_ fileNZ: Int, expected: Int, path: String) throws(GanError) {
    guard fileNZ == expected else { throw bad(path, "latents have nz \(fileNZ), the model expects \(expected)") }
  }

  public static func writeFloat32(path: String, values: UnsafeBufferPointer<Float>, shape: [Int]) throws(GanError) {
    try writeFileAtomically(path: path, bytes: encodeFloat32(values, shape: shape))
  }
}

extension Substring {
  var trimmingSpaces: String { String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
