import Foundation
import GanFuzzBodies
import GanTestSupport
import XCTest

/// The short form of fuzzing that runs in every tools/test.sh: each fuzz target's body
/// (Fuzz/Bodies) over its committed seeds (Fuzz/corpus/TARGET, where every finding's input is
/// kept) and over a fixed set of mutants of them. The libFuzzer runs themselves (tools/fuzz.sh)
/// need a separate sanitizer build and do not fit the CI budget; docs/reliability.md has figures.
final class FuzzCorpusTests: XCTestCase {
  static let corpus = String(#filePath[..<#filePath.range(of: "/Tests/")!.lowerBound]) + "/Fuzz/corpus"

  /// Every target has seeds, and no seed breaks its body's invariant.
  func testEverySeedPassesItsTarget() throws {
    for (name, body) in FuzzBody.all {
      let seeds = try Self.seeds(name)
      XCTAssertFalse(seeds.isEmpty, "Fuzz/corpus/\(name) has no seeds")
      for (file, bytes) in seeds {
        XCTAssertNil(bytes.withUnsafeBufferPointer { body($0.baseAddress ?? Self.empty, $0.count) }, "\(name)/\(file)")
      }
    }
  }

  /// Mutants of every seed (bit flips, boundary bytes, insertions, deletions, duplicated ranges,
  /// truncations, decimal numbers, splices with another seed), drawn from a fixed-seed generator so
  /// a failure reproduces: FUZZ_MUTANTS overrides the count per seed (default 150).
  func testMutantsOfEverySeedPassTheirTarget() throws {
    let perSeed = ProcessInfo.processInfo.environment["FUZZ_MUTANTS"].flatMap { Int($0) } ?? 150
    var total = 0
    for (t, (name, body)) in FuzzBody.all.enumerated() {
      let seeds = try Self.seeds(name)
      var rng = SplitMix64(state: 0x5EED_0000 + UInt64(t))
      for (file, seed) in seeds {
        for m in 0..<perSeed {
          let mutant = Self.mutate(seed, other: seeds[Int(rng.next() % UInt64(seeds.count))].bytes, rng: &rng)
          let broken = mutant.withUnsafeBufferPointer { body($0.baseAddress ?? Self.empty, $0.count) }
          if let broken {
            let kept = NSTemporaryDirectory() + "fuzz-\(name)-\(file)-mutant\(m)"
            FileManager.default.createFile(atPath: kept, contents: Data(mutant))
            XCTFail("\(name)/\(file) mutant \(m) (kept in \(kept)): \(broken)")
          }
          total += 1
        }
      }
    }
    print("fuzz corpus: \(total) mutants over \(FuzzBody.all.count) targets")
  }

  /// The test that this test can fail: a body that breaks on one byte value is caught by the mutants.
  func testTheMutatorFindsAPlantedDefect() {
    let planted: FuzzBody.Body = { p, n in
      UnsafeBufferPointer(start: p, count: n).contains(0xFF) ? "planted defect: byte 0xFF" : nil
    }
    var rng = SplitMix64(state: 1)
    let seed = Array("{\"a\": [1, 2, 3]}".utf8)
    let found = (0..<150).contains { _ in
      Self.mutate(seed, other: seed, rng: &rng).withUnsafeBufferPointer { planted($0.baseAddress ?? Self.empty, $0.count) } != nil
    }
    XCTAssertTrue(found)
  }

  static let empty: UnsafePointer<UInt8> = UnsafePointer(UnsafeMutablePointer<UInt8>.allocate(capacity: 1))

  static func seeds(_ name: String) throws -> [(file: String, bytes: [UInt8])] {
    let dir = corpus + "/" + name
    return try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map {
      ($0, [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))))
    }
  }

  /// One to four mutations of `seed`.
  static func mutate(_ seed: [UInt8], other: [UInt8], rng: inout SplitMix64) -> [UInt8] {
    var b = seed
    for _ in 0...(rng.next() % 4) {
      let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
      switch rng.next() % 8 {
      case 0: if !b.isEmpty { b[at] ^= 1 << UInt8(rng.next() % 8) }
      case 1: if !b.isEmpty { b[at] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE][Int(rng.next() % 6)] }
      case 2: b.insert(contentsOf: (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
      case 3: if !b.isEmpty { b.removeSubrange(at..<min(b.count, at + 1 + Int(rng.next() % 16))) }
      case 4: if !b.isEmpty { b.insert(contentsOf: b[at..<min(b.count, at + 1 + Int(rng.next() % 32))], at: at) }
      case 5: b.removeSubrange(Int(rng.next() % UInt64(b.count + 1))...)
      case 6:
        let numbers = ["0", "-1", "4294967296", "9223372036854775807", "18446744073709551616", "1e999", "nan", "-0.0", "65536"]
        b.insert(contentsOf: Array(numbers[Int(rng.next() % UInt64(numbers.count))].utf8), at: at)
      default:
        let cut = other.isEmpty ? 0 : Int(rng.next() % UInt64(other.count))
        b = Array(b[..<at]) + other[cut...]
      }
    }
    return b
  }
}
