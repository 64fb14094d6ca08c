import GanModel

/// The JSON parser (safetensors headers, gan.arch, reports): anything it accepts serializes to
/// text that parses back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  guard let v = try? JSON.parse(bytes: Array(UnsafeBufferPointer(start: data, count: count))) else { return 0 }
  let text = v.serialized
  guard let again = try? JSON.parse(text) else { preconditionFailure("serialized JSON does not parse: \(text)") }
  precondition(again == v, "JSON round trip changed the value: \(text)")
  _ = try? Architecture(json: text)
  return 0
}
