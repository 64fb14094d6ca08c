import Foundation
import XCTest

/// A test case with a fresh scratch directory `dir` per test, removed afterwards.
open class ScratchDirectoryTestCase: XCTestCase {
  public var dir = ""

  /// The directory's name starts with this (which test left it, if a run is killed).
  open var scratchPrefix: String { "swift-gan-test" }

  override open func setUp() {
    super.setUp()
    dir = NSTemporaryDirectory() + "\(scratchPrefix)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override open func tearDown() {
    try? FileManager.default.removeItem(atPath: dir)
    super.tearDown()
  }
}

/// The package's executables (gan-train, gan-gen, gan-quant) as a user runs them: the products
/// of the same build, which sit beside the test bundle.
public enum Executables {
  public static func path(_ name: String) -> String {
    var url = Bundle(for: ScratchDirectoryTestCase.self).bundleURL
    while url.pathExtension == "xctest" || url.lastPathComponent == "Contents" { url.deleteLastPathComponent() }
    return url.appendingPathComponent(name).path
  }

  /// Starts `name` with `args`; the caller reads the pipes and waits.
  public static func launch(_ name: String, _ args: [String]) throws -> (process: Process, out: Pipe, err: Pipe) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path(name))
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    return (p, out, err)
  }

  /// Runs `name` to the end: its exit status, stdout and stderr.
  public static func run(_ name: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let (p, out, err) = try launch(name, args)
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
  }
}

extension Executables {
  /// Runs `name` to the end as `run` does, through the peak-rss helper, and also returns the tool's
  /// peak resident set (its ru_maxrss) in KiB: the tests' bound on memory under hostile input.
  public static func runMeasuringPeakRSS(_ name: String, _ args: [String])
      throws -> (status: Int32, out: String, err: String, peakKiB: Int) {
    let rssFile = NSTemporaryDirectory() + "swift-gan-rss-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: rssFile) }
    let r = try run("peak-rss", [rssFile, path(name)] + args)
    let kib = Int(((try? String(contentsOfFile: rssFile, encoding: .utf8)) ?? "").split(separator: "\n").first ?? "")
    return (r.status, r.out, r.err, kib ?? Int.max)
  }
}

/// A small deterministic generator (SplitMix64): test data and mutants that are the same on every run.
public struct SplitMix64 {
  public var state: UInt64
  public init(state: UInt64) { self.state = state }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
