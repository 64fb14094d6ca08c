import GanFuzzBodies

/// libFuzzer entry point for FuzzBody.ganGenFlags (Fuzz/Bodies/FuzzBodies.swift); tools/fuzz.sh gan-gen-flags SECONDS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 { FuzzBody.run(FuzzBody.ganGenFlags, data, count) }
