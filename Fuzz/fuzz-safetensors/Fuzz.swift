import GanFuzzBodies

/// libFuzzer entry point for FuzzBody.safetensors (Fuzz/Bodies/FuzzBodies.swift); tools/fuzz.sh safetensors SECONDS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 { FuzzBody.run(FuzzBody.safetensors, data, count) }
