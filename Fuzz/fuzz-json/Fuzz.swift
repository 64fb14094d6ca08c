import GanFuzzBodies

/// libFuzzer entry point for FuzzBody.json (Fuzz/Bodies/FuzzBodies.swift); tools/fuzz.sh json SECONDS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 { FuzzBody.run(FuzzBody.json, data, count) }
