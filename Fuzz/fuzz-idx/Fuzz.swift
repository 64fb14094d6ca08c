import GanFuzzBodies

/// libFuzzer entry point for FuzzBody.idx (Fuzz/Bodies/FuzzBodies.swift); tools/fuzz.sh idx SECONDS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 { FuzzBody.run(FuzzBody.idx, data, count) }
