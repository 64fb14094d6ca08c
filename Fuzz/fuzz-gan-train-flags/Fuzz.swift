import GanFuzzBodies

/// libFuzzer entry point for FuzzBody.ganTrainFlags (Fuzz/Bodies/FuzzBodies.swift); tools/fuzz.sh gan-train-flags SECONDS.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 { FuzzBody.run(FuzzBody.ganTrainFlags, data, count) }
