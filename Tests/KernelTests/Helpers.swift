import XCTest
import GanKernels
import GanTestSupport

/// Deterministic test data (SplitMix64), values uniform in [-1, 1).
struct TestRandom {
  var generator: SplitMix64
  init(seed: UInt64) { generator = SplitMix64(state: seed &+ 0x9E37_79B9_7F4A_7C15) }
  mutating func next() -> UInt64 { generator.next() }
  mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
  mutating func array(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in uniform() * scale } }
}

/// A 64-byte aligned scratch block that lives for one test.
final class Workspace {
  let pointer: UnsafeMutableRawPointer
  let bytes: Int
  init(bytes: Int) {
    self.bytes = max(bytes, 64)
    pointer = UnsafeMutableRawPointer.allocate(byteCount: self.bytes, alignment: 64)
  }
  deinit { pointer.deallocate() }
}

/// max |a - b| / (max |b| + floor): error relative to the output's scale.
func relativeMaxError(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
  precondition(a.count == b.count)
  var maxDiff: Float = 0, maxRef: Float = 0
  for i in 0..<a.count {
    maxDiff = max(maxDiff, abs(a[i] - b[i]))
    maxRef = max(maxRef, abs(b[i]))
  }
  return maxDiff / (maxRef + floor)
}

func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ message: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(a.count, b.count, message(), file: file, line: line)
  let err = relativeMaxError(a, b)
  XCTAssert(err <= tolerance, "\(message()): relative max error \(err) > \(tolerance)", file: file, line: line)
  XCTAssertFalse(a.contains { !$0.isFinite }, "\(message()): non-finite output", file: file, line: line)
}

/// Runs body once per available GEMM variant (forced), then restores the automatic choice.
func forEachGemmVariant(_ body: (Kernels.GemmVariant) throws -> Void) rethrows {
  defer { Kernels.forceGemmVariant(nil) }
  for v in Kernels.gemmVariants where v.available {
    Kernels.forceGemmVariant(v.index)
    XCTAssertEqual(Kernels.selectedGemmVariant.index, v.index)
    try body(v)
  }
}

/// Exact equality, reporting the first differing index (never the whole arrays).
func assertIdentical<T: Equatable>(_ a: [T], _ b: [T], _ message: @autoclosure () -> String,
                                   file: StaticString = #filePath, line: UInt = #line) {
  guard a.count == b.count else {
    XCTFail("\(message()): \(a.count) vs \(b.count) elements", file: file, line: line)
    return
  }
  if let i = a.indices.first(where: { a[$0] != b[$0] }) {
    XCTFail("\(message()): first difference at [\(i)]: \(a[i]) vs \(b[i])", file: file, line: line)
  }
}
