// swift-tools-version:6.1
import PackageDescription

// The kernels are compiled -O3 in every configuration: tests run them at speed. -ffp-contract=off:
// a * b + c is never fused behind the code's back (compilers fuse by default where the ISA has
// FMA, and aarch64 always has it), so the scalar definitions give the same bits on every ISA;
// fmaf and the FMA intrinsics fuse where the code says so. Their threads are a small pthread pool
// (Kernels/common/parallel.c), no OpenMP runtime.

let package = Package(
  name: "swift-gan",
  products: [
    .library(name: "GanKernels", targets: ["GanKernels"]),
    .library(name: "GanModel", targets: ["GanModel"]),
    .library(name: "GanTraining", targets: ["GanTraining"]),
    .library(name: "GanImage", targets: ["GanImage"]),
    .library(name: "GanData", targets: ["GanData"]),
    .executable(name: "gan-train", targets: ["gan-train"]),
    .executable(name: "gan-gen", targets: ["gan-gen"]),
    .executable(name: "gan-quant", targets: ["gan-quant"]),
    .library(name: "GanQuant", targets: ["GanQuant"]),
    .library(name: "GanRuntime", targets: ["GanRuntime"]),
    .library(name: "GanServe", targets: ["GanServe"]),
    .executable(name: "gan-serve", targets: ["gan-serve"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
  ],
  targets: [
    .target(
      name: "CGanKernels",
      path: "Kernels",
      publicHeadersPath: "include",
      cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-Wall", "-Wno-unknown-pragmas"])],
      linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("m")]
    ),
    // POSIX and libm for the board path, importable by ordinary and Embedded Swift alike.
    .target(name: "CGanSystem"),
    // MPI for data-parallel training: Open MPI's libmpi loaded with dlopen at run time, so the
    // package builds and runs where MPI is not installed (the trainer only; never gan-gen).
    .target(name: "CGanMPI", linkerSettings: [.linkedLibrary("dl")]),
    .target(
      name: "GanKernels",
      dependencies: ["CGanKernels", "CGanSystem"],
      swiftSettings: [.unsafeFlags(["-Ounchecked"])]
    ),
    .target(name: "GanModel", dependencies: ["GanKernels", "CGanSystem"]),
    .target(
      name: "CGanImageIO",
      cSettings: [.unsafeFlags(["-O2"])],
      linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("z")]
    ),
    .target(name: "GanImage", dependencies: ["CGanImageIO", "GanModel"]),
    // Test support: counts heap allocations (for the allocation-free tests).
    .target(name: "CMallocCounter"),
    .target(name: "GanData", dependencies: ["GanImage", "GanModel", "GanKernels"]),
    // -O in every configuration: the in-loop SWD and the trainer run at speed in the tests too.
    .target(name: "GanTraining", dependencies: ["GanKernels", "GanModel", "GanData", "GanImage", "CGanMPI"],
            swiftSettings: [.unsafeFlags(["-O"])]),
    // The board runtime: no Foundation, no GanTraining.
    .target(name: "GanRuntime", dependencies: ["GanKernels", "GanModel", "GanImage", "CGanSystem"]),
    .executableTarget(
      name: "gan-gen",
      dependencies: ["GanRuntime", "GanModel", "GanImage", "GanKernels", "CGanSystem"],
      // Static Swift runtime, so the binary runs on a board without Swift installed. No
      // swift-argument-parser here: it links FoundationEssentials (+4.7 MB resident; see Flags.swift).
      linkerSettings: [.unsafeFlags(["-static-stdlib"])]
    ),
    .target(name: "GanQuant", dependencies: ["GanRuntime", "GanTraining", "GanModel", "GanKernels"]),
    // The ArgumentParser tools' shared entry point: one-line usage errors, FlagRange checks.
    .target(name: "GanCommandLine",
            dependencies: ["GanModel", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .executableTarget(
      name: "gan-quant",
      dependencies: ["GanQuant", "GanModel", "GanCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    .executableTarget(
      name: "gan-train",
      dependencies: ["GanTraining", "GanData", "GanModel", "GanCommandLine",
                     .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    // The HTTP server: GanRuntime behind Hummingbird 2 with dynamic batching (not on the board path).
    .target(
      name: "GanServe",
      dependencies: ["GanRuntime", "GanModel", "GanImage", "GanKernels",
                     .product(name: "Hummingbird", package: "hummingbird"),
                     .product(name: "Prometheus", package: "swift-prometheus")]
    ),
    .executableTarget(
      name: "gan-serve",
      dependencies: ["GanServe", "GanModel", "GanCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                     .product(name: "Hummingbird", package: "hummingbird")]
    ),
    // Test support: scratch directories and launching the built executables; the GEMM
    // edge-shape matrix shared with the C kernel driver.
    .target(name: "GanTestSupport", dependencies: ["GanRuntime", "CMallocCounter"], path: "Tests/GanTestSupport"),
    // Runs a tool and reports its own peak RSS (the hostile-input tests' memory bound).
    .executableTarget(name: "peak-rss", path: "Tests/peak-rss"),
    // Compares two safetensors files (tools/test-mpi.sh: N ranks against one process).
    .executableTarget(name: "tensor-compare", dependencies: ["GanModel"], path: "Tests/tensor-compare"),
    .target(name: "CGemmEdgeShapes", path: "Tests/CGemmEdgeShapes"),
    // The fuzz targets' bodies (Fuzz/fuzz-* wrap them for libFuzzer; FuzzCorpusTests replays the
    // committed seeds and mutations of them through the same code in every test run).
    .target(name: "GanFuzzBodies", dependencies: ["GanModel", "GanRuntime", "GanTraining", "GanData", "GanImage", "GanCommandLine"],
            path: "Fuzz/Bodies"),
    .testTarget(name: "FuzzCorpusTests", dependencies: ["GanTestSupport", "GanFuzzBodies"]),
    .testTarget(name: "KernelTests", dependencies: ["GanTestSupport", "GanKernels", "CGanKernels", "CGemmEdgeShapes"],
                swiftSettings: [.unsafeFlags(["-O"])]),
    .testTarget(name: "GanModelTests", dependencies: ["GanTestSupport", "GanModel"]),
    .testTarget(name: "GanTrainCLITests", dependencies: ["GanTestSupport", "GanModel"]),
    .testTarget(name: "GanRuntimeTests", dependencies: ["GanTestSupport", "GanRuntime", "GanModel", "GanKernels", "GanImage", "CMallocCounter"],
                exclude: ["Fixtures"], swiftSettings: [.unsafeFlags(["-O"])]),
    .testTarget(name: "GanQuantTests", dependencies: ["GanTestSupport", "GanQuant", "GanRuntime", "GanModel", "GanKernels", "CMallocCounter"],
                swiftSettings: [.unsafeFlags(["-O"])]),
    .testTarget(name: "GanDataTests", dependencies: ["GanTestSupport", "GanData", "GanImage", "GanModel"], exclude: ["Fixtures"]),
    .testTarget(name: "GanServeTests", dependencies: ["GanTestSupport", "GanServe", "GanRuntime", "GanModel", "GanImage",
                                                     .product(name: "HummingbirdTesting", package: "hummingbird")]),
    .testTarget(name: "GanTrainingTests", dependencies: ["GanTestSupport", "GanTraining", "GanModel", "GanKernels", "GanData", "CMallocCounter"],
                exclude: ["Fixtures"],
                swiftSettings: [.unsafeFlags(["-O"])]),
  ],
  swiftLanguageModes: [.v5]
)

// Fuzz targets (tools/fuzz.sh): libFuzzer executables, declared only when SWIFT_GAN_FUZZ is set,
// because without `--sanitize fuzzer` they have no main. Each exports LLVMFuzzerTestOneInput.
import Foundation
if ProcessInfo.processInfo.environment["SWIFT_GAN_FUZZ"] != nil {
  let fuzzTargets = ["safetensors", "npy", "idx", "json", "image", "gan-gen-flags", "gan-train-flags"].map { "fuzz-" + $0 }
  // Coverage for every library target, stated explicitly: swiftc given `-sanitize=fuzzer
  // -sanitize=address` in that order (as SwiftPM passes them) emits no coverage counters for Swift
  // code (swiftc 6.3.1; the other order does), so libFuzzer saw only the C parts and could not steer.
  for target in package.targets where target.type == .regular {
    if target.name.hasPrefix("C") {
      target.cSettings = (target.cSettings ?? []) + [.unsafeFlags(["-fsanitize=fuzzer-no-link"])]
    } else {
      target.swiftSettings = (target.swiftSettings ?? []) +
        [.unsafeFlags(["-sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp"])]
    }
  }
  for name in fuzzTargets {
    package.targets.append(.executableTarget(name: name, dependencies: ["GanFuzzBodies"], path: "Fuzz/\(name)",
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
  }
}
