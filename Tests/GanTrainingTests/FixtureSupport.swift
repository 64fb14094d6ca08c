import XCTest
import GanModel
import GanTestSupport

/// Fixtures written by tools/make_fixtures.py (PyTorch layouts: NCHW activations).
enum Fixtures {
  static let directory: String = {
    var path = #filePath
    path = String(path[..<path.lastIndex(of: "/")!])
    return path + "/Fixtures"
  }()

  static func open(_ name: String) throws -> SafeTensorsFile {
    try SafeTensorsFile(path: directory + "/" + name)
  }
}

extension SafeTensorsFile {
  /// A tensor and its shape.
  func tensor(_ name: String) throws -> (values: [Float], shape: [Int]) {
    guard let e = entry(name) else { throw GanError.invalidFile(path: path, reason: "missing \(name)") }
    return (try floats(name), e.shape)
  }

  /// An NCHW tensor converted to NHWC.
  func nhwc(_ name: String) throws -> [Float] {
    let (v, s) = try tensor(name)
    precondition(s.count == 4, "\(name) is not 4-D")
    return nchwToNHWC(v, n: s[0], c: s[1], h: s[2], w: s[3])
  }
}

/// Relative infinity-norm error: max |got - want| / max |want|.
func relativeInfError(_ got: [Float], _ want: [Float]) -> Float {
  precondition(got.count == want.count, "size \(got.count) vs \(want.count)")
  var d: Float = 0, m: Float = 0
  for i in 0..<got.count {
    d = max(d, abs(got[i] - want[i]))
    m = max(m, abs(want[i]))
  }
  return d / max(m, 1e-30)
}

func assertMatches(_ got: [Float], _ want: [Float], _ what: String, tolerance: Float = 1e-4,
                   file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(got.count, want.count, what, file: file, line: line)
  guard got.count == want.count else { return }
  let e = relativeInfError(got, want)
  print("fixture \(what): relative inf-norm error \(e)")
  XCTAssert(e <= tolerance, "\(what): relative inf-norm error \(e) > \(tolerance)", file: file, line: line)
  XCTAssertFalse(got.contains { !$0.isFinite }, "\(what): non-finite values", file: file, line: line)
}

/// An owned float buffer with a stable pointer (tests hand pointers to kernels).
final class Buf {
  let p: UnsafeMutablePointer<Float>
  let count: Int
  init(_ values: [Float]) {
    count = values.count
    p = .allocate(capacity: max(count, 1))
    for i in 0..<count { p[i] = values[i] }
  }
  init(zeros n: Int) {
    count = n
    p = .allocate(capacity: max(n, 1))
    p.initialize(repeating: 0, count: max(n, 1))
  }
  var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
  deinit { p.deallocate() }
}

/// A 64-byte aligned block for kernel workspaces.
final class Scratch {
  let raw: UnsafeMutableRawPointer
  init(_ bytes: Int) { raw = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64) }
  deinit { raw.deallocate() }
}
