/// FNV-1a 64 over bytes, strings and integers: identifies what a dataset cache was built from, and
/// gan-serve's responses (model file and request) for their ETags. Not cryptographic.
public struct Fingerprint: Sendable {
  public var value: UInt64 = 0xcbf2_9ce4_8422_2325

  public init() {}

  private mutating func add(byte b: UInt8) { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 }

  public mutating func add<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
    for b in bytes { add(byte: b) }
  }

  /// The string's UTF-8 bytes, then a zero UInt64 (so "ab"+"c" differs from "a"+"bc").
  public mutating func add(_ s: String) {
    add(bytes: s.utf8)
    add(0 as UInt64)
  }

  public mutating func add(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { add(bytes: $0) } }

  /// 16 lower-case hex digits.
  public var hex: String { let s = String(value, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
}
