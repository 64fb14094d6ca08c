import GanFuzzBodies

/// libFuzzer entry point for FuzzBody.npy (Fuzz/Bodies/FuzzBodies.swift); tools/fuzz.sh npy SECONDS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 { FuzzBody.run(FuzzBody.npy, data, count) }
