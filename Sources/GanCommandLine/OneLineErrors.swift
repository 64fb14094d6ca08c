import ArgumentParser
import Foundation
import GanModel

/// ArgumentParser's entry point with the tools' error convention: a usage error is one line on
/// stderr, `<tool>: <message> (see <tool> --help)`, and exit 64, instead of the parser's three-line
/// block; --help and --version print as usual; an `ExitCode` thrown by `run` exits with it silently
/// (the command has already said why).
public enum OneLineErrors {
  /// The line and status for `error` thrown while parsing, validating or running `command`.
  static func report<C: ParsableCommand>(_ command: C.Type, _ error: any Error) -> Int32 {
    let code = C.exitCode(for: error)
    if code == .success {
      print(C.fullMessage(for: error))
      return 0
    }
    if error is ExitCode { return code.rawValue }
    let name = C.configuration.commandName ?? "\(C.self)"
    let message = C.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    let trimmed = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
    FileHandle.standardError.write(Data("\(name): \(trimmed) (see \(name) --help)\n".utf8))
    return code.rawValue
  }

  public static func main<C: ParsableCommand>(_ command: C.Type) -> Never {
    do {
      var c = try C.parseAsRoot()
      try c.run()
      exit(0)
    } catch {
      exit(report(C.self, error))
    }
  }

  public static func main<C: AsyncParsableCommand>(_ command: C.Type) async -> Never {
    do {
      var c = try C.parseAsRoot()
      if var a = c as? C {
        try await a.run()
      } else {
        try c.run()
      }
      exit(0)
    } catch {
      exit(report(C.self, error))
    }
  }
}

/// A `FlagRange` check as the parser's ValidationError, for `validate()`.
public func checkFlag<T: Comparable & CustomStringConvertible>(_ name: String, _ value: T, _ range: ClosedRange<T>) throws {
  do { try FlagRange.check(name, value, range) } catch { throw ValidationError(error.description) }
}

/// Floats also refuse nan and infinities (nan compares false with both bounds).
public func checkFlag(_ name: String, _ value: Float, _ range: ClosedRange<Float>) throws {
  guard value.isFinite, range.contains(value) else {
    throw ValidationError("--\(name) \(value): expected a number from \(range.lowerBound) to \(range.upperBound)")
  }
}
