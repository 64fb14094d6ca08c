/// A small JSON reader for safetensors headers and architecture strings (GanModel runs on boards
/// without Foundation). Numbers are kept as Double; integers up to 2^53 are exact.
public indirect enum JSON: Equatable, Sendable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSON])
  case object([(String, JSON)])

  public static func == (a: JSON, b: JSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)): return x.count == y.count && zip(x,
        y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  public subscript(key: String) -> JSON? {
    if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
    return nil
  }

  public var intValue: Int? {
    if case .number(let d) = self, d == d.rounded(), abs(d) < 9.0e15 { return Int(d) }
    return nil
  }
  public var doubleValue: Double? { if case .number(let d) = self { return d }; return nil }
  public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
  public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
  public var objectValue: [(String, JSON)]? { if case .object(let o) = self { return o }; return nil }

  public static func parse(_ text: String) throws(GanError) -> JSON {
    try parse(bytes: Array(text.utf8))
  }

  public static func parse(bytes: [UInt8]) throws(GanError) -> JSON {
    var p = Parser(bytes: bytes)
    p.skipSpace()
    let v = try p.value(depth: 0)
    p.skipSpace()
    guard p.i == bytes.count else { throw GanError.malformedJSON(offset: p.i, reason: "trailing characters") }
    return v
  }

  /// A number, or null where it is not finite (JSON has no inf or nan); with `digits`, rounded
  /// to that many decimals first (report figures).
  public static func finite(_ x: Double, digits: Int? = nil) -> JSON {
    guard x.isFinite else { return .null }
    guard let d = digits, let rounded = Double(formatFixed(x, d)) else { return .number(x) }
    return .number(rounded)
  }

  /// Serializes with keys in the given order and no spaces.
  public var serialized: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let d):
      guard d.isFinite else { return "null" }  // JSON has no inf or nan
      if d == d.rounded(), abs(d) < 9.0e15 { return String(Int(d)) }
      return "\(d)"
    case .string(let s): return JSON.quote(s)
    case .array(let a): return "[" + a.map { $0.serialized }.joined(separator: ",") + "]"
    case .object(let o): return "{" + o.map { JSON.quote($0.0) + ":" + $0.1.serialized }.joined(separator: ",") + "}"
    }
  }

  public static func quote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          let h = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }

  struct Parser {
    let bytes: [UInt8]
    var i = 0

    mutating func skipSpace() {
      while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    func fail(_ r: String) -> GanError { .malformedJSON(offset: i, reason: r) }

    mutating func value(depth: Int) throws(GanError) -> JSON {
      guard depth < 64 else { throw fail("nesting deeper than 64") }
      guard i < bytes.count else { throw fail("unexpected end") }
      switch bytes[i] {
      case UInt8(ascii: "{"):
        i += 1
        var members: [(String, JSON)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
          skipSpace()
          guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key string") }
          let key = try string()
          skipSpace()
          guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
          i += 1
          skipSpace()
          members.append((key, try value(depth: depth + 1)))
          skipSpace()
          guard i < bytes.count else { throw fail("unterminated object") }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
          throw fail("expected ',' or '}'")
        }
      case UInt8(ascii: "["):
        i += 1
        var items: [JSON] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
          skipSpace()
          items.append(try value(depth: depth + 1))
          skipSpace()
          guard i < bytes.count else { throw fail("unterminated array") }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
          throw fail("expected ',' or ']'")
        }
      case UInt8(ascii: "\""):
        return .string(try string())
      case UInt8(ascii: "t"): try literal("true"); return .bool(true)
      case UInt8(ascii: "f"): try literal("false"); return .bool(false)
      case UInt8(ascii: "n"): try literal("null"); return .null
      default:
        return .number(try number())
      }
    }

    mutating func literal(_ word: String) throws(GanError) {
      let w = Array(word.utf8)
      guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("unknown literal") }
      i += w.count
    }

    mutating func number() throws(GanError) -> Double {
      let start = i
      // Digits, sign, point, exponent: the characters a JSON number may hold.
      while i < bytes.count, let c = Optional(bytes[i]),
            (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
              || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
        i += 1
      }
      guard i > start, let s = String(bytes: bytes[start..<i], encoding: .utf8), let d = Double(s) else {
        i = start
        throw fail("invalid value")
      }
      // 1e999 parses as infinity, which JSON cannot write back (found by fuzz-json).
      guard d.isFinite else {
        i = start
        throw fail("number out of range")
      }
      return d
    }

    mutating func hex4() throws(GanError) -> UInt32 {
      guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
      var v: UInt32 = 0
      for _ in 0..<4 {
        let c = bytes[i]
        let d: UInt32
        switch c {
        case 0x30...0x39: d = UInt32(c - 0x30)
        case 0x41...0x46: d = UInt32(c - 0x41 + 10)
        case 0x61...0x66: d = UInt32(c - 0x61 + 10)
        default: throw fail("bad hex digit in \\u escape")
        }
        v = v * 16 + d
        i += 1
      }
      return v
    }

    mutating func string() throws(GanError) -> String {
      i += 1  // opening quote
      var scalars = String.UnicodeScalarView()
      var raw: [UInt8] = []
      func flush() throws(GanError) {
        if raw.isEmpty { return }
        guard let s = String(bytes: raw, encoding: .utf8) else { throw GanError.malformedJSON(offset: i,
            reason: "invalid UTF-8") }
        scalars.append(contentsOf: s.unicodeScalars)
        raw.removeAll(keepingCapacity: true)
      }
      while true {
        guard i < bytes.count else { throw fail("unterminated string") }
        let c = bytes[i]
        if c == UInt8(ascii: "\"") { i += 1; break }
        if c < 0x20 { throw fail("control character in string") }
        if c == UInt8(ascii: "\\") {
          try flush()
          i += 1
          guard i < bytes.count else { throw fail("unterminated escape") }
          let e = bytes[i]
          i += 1
          switch e {
          case UInt8(ascii: "\""): scalars.append("\"")
          case UInt8(ascii: "\\"): scalars.append("\\")
          case UInt8(ascii: "/"): scalars.append("/")
          case UInt8(ascii: "b"): scalars.append("\u{08}")
          case UInt8(ascii: "f"): scalars.append("\u{0C}")
          case UInt8(ascii: "n"): scalars.append("\n")
          case UInt8(ascii: "r"): scalars.append("\r")
          case UInt8(ascii: "t"): scalars.append("\t")
          case UInt8(ascii: "u"):
            var v = try hex4()
            if v >= 0xD800 && v < 0xDC00, i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
              i += 2
              let lo = try hex4()
              // A high surrogate must pair with a low one (the unchecked sum trapped: fuzz-json).
              guard lo >= 0xDC00 && lo < 0xE000 else { throw fail("invalid surrogate pair in \\u escape") }
              v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
            }
            guard let u = Unicode.Scalar(v) else { throw fail("invalid \\u escape") }
            scalars.append(u)
          default: throw fail("unknown escape")
          }
          continue
        }
        raw.append(c)
        i += 1
      }
      try flush()
      return String(scalars)
    }
  }
}

extension String {
  init?(bytes: ArraySlice<UInt8>, encoding: UTF8Encoding) {
    var it = bytes.makeIterator()
    var s = ""
    var decoder = UTF8()
    loop: while true {
      switch decoder.decode(&it) {
      case .scalarValue(let u): s.unicodeScalars.append(u)
      case .emptyInput: break loop
      case .error: return nil
      }
    }
    self = s
  }
  init?(bytes: [UInt8], encoding: UTF8Encoding) { self.init(bytes: bytes[...], encoding: encoding) }
  enum UTF8Encoding { case utf8 }
}
