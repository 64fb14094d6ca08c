import FuzzSupport
import GanModel
import GanRuntime

/// gan-gen's flag parsing and validation (the input split at NUL bytes into arguments): every
/// outcome is options, --help, or a usage error; never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  do {
    guard let options = try GanGenOptions(arguments: FuzzInput.arguments(data, count)) else { return 0 }
    try options.validate()
  } catch {
    guard case .usage = error else { preconditionFailure("flag parsing threw a non-usage error: \(error)") }
  }
  return 0
}
