import GanModel
import GanRuntime

/// The limits on what one request may ask for (documented in gan-serve --help and on GET /model).
public enum ServeLimits {
  public static let maxIndex = 1 << 40
  public static let maxGridCount = 256
  public static let maxColumns = 64
  public static let maxInterpolationSteps = 64
  public static let minSize = 8
  public static let maxSize = 1024
  /// Pixels of one grid or strip image, at most (4096 x 4096).
  public static let maxImagePixels = 1 << 24
}

/// A request's parameters, parsed and checked; `key` names the response exactly (for the ETag).
/// `label`: a conditional model's class for every image (nil: unconditional, or class 0).
public enum ServeRequest: Equatable {
  /// Image `index` of `seed` (gan-gen's latent(seed, index)), `size` px square.
  case image(seed: UInt64, index: Int, size: Int, label: Int? = nil)
  /// Images 0 ..< count of `seed` in `columns` columns (torchvision make_grid layout).
  case grid(seed: UInt64, count: Int, columns: Int, size: Int, label: Int? = nil)
  /// `steps` images from latent(from) to latent(to), both ends included, in one row; with `frame`
  /// only that one.
  case interpolation(from: (UInt64, Int), to: (UInt64, Int), steps: Int, slerp: Bool, frame: Int?, size: Int,
                     label: Int? = nil)

  public static func == (a: ServeRequest, b: ServeRequest) -> Bool { a.key == b.key }

  public var label: Int? {
    switch self {
    case let .image(_, _, _, l), let .grid(_, _, _, _, l), let .interpolation(_, _, _, _, _, _, l): return l
    }
  }

  /// A canonical description: equal for equal responses, whatever the query's order or spelling.
  public var key: String {
    let cls = label.map { " class=\($0)" } ?? ""
    switch self {
    case let .image(seed, index, size, _): return "image seed=\(seed) index=\(index) size=\(size)" + cls
    case let .grid(seed, count, columns, size, _):
      return "grid seed=\(seed) count=\(count) columns=\(columns) size=\(size)" + cls
    case let .interpolation(from, to, steps, slerp, frame, size, _):
      return "interpolate from=\(from.0):\(from.1) to=\(to.0):\(to.1) steps=\(steps) " +
             "mode=\(slerp ? "slerp" : "linear") frame=\(frame.map(String.init) ?? "all") size=\(size)" + cls
    }
  }

  /// Images generated for it.
  public var imageCount: Int {
    switch self {
    case .image: return 1
    case let .grid(_, count, _, _, _): return count
    case let .interpolation(_, _, steps, _, _, _, _): return steps
    }
  }
}

/// Parses one endpoint's query, `parameters` as (name, value) pairs in order. Every failure is a
/// `ServeError` with status 400 naming the parameter and the accepted range.
public struct ServeRequestParser {
  public let architecture: Architecture
  /// Class names of a conditional model (empty: unconditional).
  public let classes: [String]

  public init(architecture: Architecture, classes: [String] = []) {
    self.architecture = architecture; self.classes = classes
  }

  public func image(_ parameters: [(String, String)]) throws(ServeError) -> ServeRequest {
    let q = try Query(parameters, known: ["seed", "index", "class", "size"])
    return .image(seed: try q.seed("seed"), index: try q.int("index", 0...ServeLimits.maxIndex, default: 0),
                  size: try size(q), label: try label(q))
  }

  public func grid(_ parameters: [(String, String)]) throws(ServeError) -> ServeRequest {
    let q = try Query(parameters, known: ["seed", "count", "columns", "class", "size"])
    let label = try label(q)
    let count = try q.int("count", 1...ServeLimits.maxGridCount, default: 16)
    let columns = try q.int("columns", 1...ServeLimits.maxColumns, default: min(count, 8))
    let size = try size(q)
    let (w, h) = GenerationJob.gridSize(count: count, size: size, columns: columns)
    guard w * h <= ServeLimits.maxImagePixels else {
      throw ServeError(.badRequest, "a grid of \(count) images of \(size) px in \(columns) columns would be " +
                       "\(w)x\(h) pixels, over the limit of \(ServeLimits.maxImagePixels)")
    }
    return .grid(seed: try q.seed("seed"), count: count, columns: columns, size: size, label: label)
  }

  public func interpolation(_ parameters: [(String, String)]) throws(ServeError) -> ServeRequest {
    let q = try Query(parameters, known: ["from", "to", "steps", "mode", "frame", "class", "size"])
    let label = try label(q)
    let from = try q.latentName("from", default: (0, 0)), to = try q.latentName("to", default: (0, 1))
    let steps = try q.int("steps", 2...ServeLimits.maxInterpolationSteps, default: 8)
    let mode = q.value("mode") ?? "slerp"
    guard mode == "slerp" || mode == "linear" else {
      throw ServeError(.badRequest, "mode: '\(mode)' is not 'slerp' or 'linear'")
    }
    let frame: Int? = q.value("frame") == nil ? nil : try q.int("frame", 0...(steps - 1), default: 0)
    let size = try size(q)
    let (w, h) = GenerationJob.gridSize(count: steps, size: size, columns: steps)
    guard frame != nil || w * h <= ServeLimits.maxImagePixels else {
      throw ServeError(.badRequest, "a strip of \(steps) images of \(size) px would be \(w)x\(h) pixels, over the " +
                       "limit of \(ServeLimits.maxImagePixels)")
    }
    return .interpolation(from: from, to: to, steps: steps, slerp: mode == "slerp", frame: frame, size: size,
                          label: label)
  }

  private func size(_ q: Query) throws(ServeError) -> Int {
    try q.int("size", ServeLimits.minSize...ServeLimits.maxSize, default: architecture.imageSize)
  }

  /// `class`: an index or a class name of a conditional model; without it, class 0.
  private func label(_ q: Query) throws(ServeError) -> Int? {
    guard let value = q.value("class") else { return classes.isEmpty ? nil : 0 }
    guard !classes.isEmpty else {
      throw ServeError(.badRequest, "class: the model is not conditional (it has no classes)")
    }
    if let k = classes.firstIndex(of: value) { return k }
    guard let k = Int(value), k >= 0, k < classes.count else {
      throw ServeError(.badRequest, "class: '\(Query.shown(value))' is not a class index from 0 to \(classes.count - 1) " +
                       "or a class name")
    }
    return k
  }
}

/// A query's parameters with the checks every endpoint shares.
struct Query {
  let parameters: [(String, String)]

  init(_ parameters: [(String, String)], known: [String]) throws(ServeError) {
    for (name, _) in parameters where !known.contains(name) {
      throw ServeError(.badRequest, "unknown parameter '\(name)' (this endpoint takes " +
                       known.joined(separator: ", ") + ")")
    }
    var seen: [String] = []
    for (name, _) in parameters {
      if seen.contains(name) { throw ServeError(.badRequest, "\(name): given more than once") }
      seen.append(name)
    }
    self.parameters = parameters
  }

  func value(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }

  func int(_ name: String, _ range: ClosedRange<Int>, default d: Int) throws(ServeError) -> Int {
    guard let text = value(name) else { return d }
    guard let v = Int(text), range.contains(v) else {
      throw ServeError(.badRequest, "\(name): '\(Query.shown(text))' is not a whole number from " +
                       "\(range.lowerBound) to \(range.upperBound)")
    }
    return v
  }

  func seed(_ name: String) throws(ServeError) -> UInt64 {
    guard let text = value(name) else { return 0 }
    guard let v = UInt64(text) else {
      throw ServeError(.badRequest, "\(name): '\(Query.shown(text))' is not a whole number from 0 to \(UInt64.max)")
    }
    return v
  }

  /// "S:I": image I of seed S.
  func latentName(_ name: String, default d: (UInt64, Int)) throws(ServeError) -> (UInt64, Int) {
    guard let text = value(name) else { return d }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let s = UInt64(parts[0]), let i = Int(parts[1]), (0...ServeLimits.maxIndex).contains(i)
    else {
      throw ServeError(.badRequest, "\(name): '\(Query.shown(text))' is not SEED:INDEX (whole numbers, index " +
                       "0 to \(ServeLimits.maxIndex))")
    }
    return (s, i)
  }

  /// A value as echoed in an error: at most 40 characters, no control characters.
  static func shown(_ text: String) -> String {
    let clean = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    return clean.count <= 40 ? clean : String(clean.prefix(40)) + "..."
  }
}
