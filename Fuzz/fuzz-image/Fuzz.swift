import GanFuzzBodies

/// libFuzzer entry point for FuzzBody.image (Fuzz/Bodies/FuzzBodies.swift); tools/fuzz.sh image SECONDS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 { FuzzBody.run(FuzzBody.image, data, count) }
