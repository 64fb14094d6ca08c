/// `[2, 3, 4]`, as Swift prints an array, in both builds (Embedded Swift cannot print arrays).
public func formatList(_ values: [Int]) -> String {
  var s = "["
  for (i, v) in values.enumerated() { s += (i == 0 ? "" : ", ") + String(v) }
  return s + "]"
}
