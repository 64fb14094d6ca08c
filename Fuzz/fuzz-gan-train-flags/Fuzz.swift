import FuzzSupport
import GanCommandLine

/// gan-train's flag parsing and validation (swift-argument-parser over GanTrainOptions; the input
/// split at NUL bytes into arguments): options or an error, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  _ = try? GanTrainOptions.parse(FuzzInput.arguments(data, count))
  return 0
}
