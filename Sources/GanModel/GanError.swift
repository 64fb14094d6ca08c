import CGanSystem

/// The one error type of the board path (model files, latents, images, gan-gen's flags), thrown
/// typed (`throws(GanError)`): Embedded Swift has no `any Error`. Each case prints as one line
/// that names the file and the problem.
public enum GanError: Error, CustomStringConvertible, Equatable {
  case invalidArchitecture(String)
  /// A file that exists but is not what it should be (bad header, dtype, shape, ...).
  case invalidFile(path: String, reason: String)
  /// A file that cannot be opened, read, written or decoded.
  case io(path: String, reason: String)
  /// JSON text that does not parse; offset is the byte where parsing stopped.
  case malformedJSON(offset: Int, reason: String)
  /// A command-line mistake (exit status 64).
  case usage(String)

  public var description: String {
    switch self {
    case .invalidArchitecture(let r): return "invalid architecture: \(r)"
    case .invalidFile(let p, let r): return "\(p): \(r)"
    case .io(let p, let r): return "\(p): \(r)"
    case .malformedJSON(let o, let r): return "malformed JSON at byte \(o): \(r)"
    case .usage(let m): return m
    }
  }

  /// An I/O failure with the reason the C library gives for `errno`.
  public static func system(path: String, _ what: String = "") -> GanError {
    .io(path: path, reason: what + String(cString: strerror(gs_errno())))
  }
}
