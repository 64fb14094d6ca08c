import CGanSystem

/// `[2, 3, 4]`, as Swift prints an array, in both builds (Embedded Swift cannot print arrays).
public func formatList(_ values: [Int]) -> String {
  var s = "["
  for (i, v) in values.enumerated() { s += (i == 0 ? "" : ", ") + String(v) }
  return s + "]"
}

/// x with `digits` decimals, as printf's "%.Nf" (String(format:) in Foundation), in both builds:
/// "3.142", "-0.50", "inf", "nan".
public func formatFixed(_ x: Double, _ digits: Int) -> String { formatDouble(x, digits, scientific: false) }

/// x in scientific notation with `digits` decimals, as printf's "%.Ne": "1.234e-05".
public func formatScientific(_ x: Double, _ digits: Int) -> String { formatDouble(x, digits, scientific: true) }

private func formatDouble(_ x: Double, _ digits: Int, scientific: Bool) -> String {
  let d = Int32(max(0, min(digits, 40)))
  // Fixed notation of 1e308 has 309 digits before the point.
  var buffer = [CChar](repeating: 0, count: 400)
  let n = buffer.withUnsafeMutableBufferPointer {
    Int(gs_format_double($0.baseAddress!, $0.count, x, d, scientific ? 1 : 0))
  }
  let bytes = buffer.prefix(max(0, min(n, buffer.count - 1))).map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}

/// n in decimal with leading zeros to at least `width` digits: zeroPadded(7, 3) == "007".
public func zeroPadded(_ n: Int, _ width: Int) -> String {
  let digits = String(n.magnitude)
  let pad = String(repeating: "0", count: max(0, width - digits.count))
  return (n < 0 ? "-" : "") + pad + digits
}
