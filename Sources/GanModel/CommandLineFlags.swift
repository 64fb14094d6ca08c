import CGanSystem

/// The board tools' command line (gan-gen's), parsed by hand: swift-argument-parser links FoundationEssentials, which
/// costs the board binary about 4.7 MB of resident memory (9.6 MB for a static hello world with
/// it, 4.9 MB without), a third of the int8 runtime's budget.
public struct Flags {
  public struct Spec {
    public let name: String
    /// nil for a flag without a value.
    public let value: String?
    public let help: String
    public init(name: String, value: String?, help: String) { self.name = name; self.value = value; self.help = help }
  }

  public let specs: [Spec]
  public private(set) var values: [String: String] = [:]
  public private(set) var present: Set<String> = []

  public init(_ specs: [Spec]) { self.specs = specs }

  /// `--name value`, `--name=value` and `--flag`; `-h` / `--help` set "help".
  public mutating func parse(_ args: [String]) throws(GanError) {
    var i = 0
    while i < args.count {
      let arg = args[i]
      if arg == "-h" || arg == "--help" { present.insert("help"); i += 1; continue }
      guard arg.hasPrefix("--") else { throw GanError.usage("unexpected argument '\(arg)'") }
      var name = String(arg.dropFirst(2)), inline: String?
      if let eq = name.firstIndex(of: "=") {
        inline = String(name[name.index(after: eq)...])
        name = String(name[..<eq])
      }
      guard let spec = specs.first(where: { $0.name == name }) else { throw GanError.usage("unknown option '--\(name)'") }
      if spec.value == nil {
        guard inline == nil else { throw GanError.usage("--\(name) takes no value") }
        present.insert(name)
        i += 1
        continue
      }
      if let v = inline {
        values[name] = v
        i += 1
      } else {
        guard i + 1 < args.count else { throw GanError.usage("missing value for '--\(name) <\(spec.value!)>'") }
        values[name] = args[i + 1]
        i += 2
      }
      present.insert(name)
    }
  }

  /// The process's arguments after the program name (CommandLine is not in Embedded Swift).
  public static func commandLine() -> [String] {
    let argv = gs_argv()
    return (1..<max(1, Int(gs_argc()))).map { String(cString: argv![$0]!) }
  }

  public func string(_ name: String) -> String? { values[name] }
  public func flag(_ name: String) -> Bool { present.contains(name) }

  public func int(_ name: String) throws(GanError) -> Int? {
    guard let s = values[name] else { return nil }
    guard let v = Int(s) else { throw GanError.usage("invalid value '\(s)' for '--\(name)': expected an integer") }
    return v
  }

  public func uint64(_ name: String) throws(GanError) -> UInt64? {
    guard let s = values[name] else { return nil }
    guard let v = UInt64(s) else {
      throw GanError.usage("invalid value '\(s)' for '--\(name)': expected a non-negative integer")
    }
    return v
  }

  /// OVERVIEW, USAGE and one wrapped entry per option.
  public func helpText(command: String, overview: String, usage: String, discussion: String) -> String {
    var s = "OVERVIEW: \(overview)\n\n\(discussion)\n\nUSAGE: \(command) \(usage)\n\nOPTIONS:\n"
    for spec in specs + [Spec(name: "help", value: nil, help: "Show help information.")] {
      let left = "  --\(spec.name)" + (spec.value.map { " <\($0)>" } ?? "")
      let words = spec.help.split(separator: " ")
      var lines: [String] = [], line = ""
      for w in words {
        if !line.isEmpty && line.count + 1 + w.count > 72 { lines.append(line); line = "" }
        line += (line.isEmpty ? "" : " ") + w
      }
      if !line.isEmpty { lines.append(line) }
      let pad = 28
      if left.count < pad - 1 {
        s += left + String(repeating: " ", count: pad - left.count) + (lines.first ?? "") + "\n"
      } else {
        s += left + "\n" + String(repeating: " ", count: pad) + (lines.first ?? "") + "\n"
      }
      for l in lines.dropFirst() { s += String(repeating: " ", count: pad) + l + "\n" }
    }
    return s
  }
}
