// swift-tools-version:6.1
import PackageDescription

// Kernel benchmarks for swift-gan on ordo-one/package-benchmark (see README.md).
let package = Package(
  name: "swift-gan-benchmarks",
  dependencies: [
    .package(name: "swift-gan", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "KernelBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "GanKernels", package: "swift-gan"),
      ],
      path: "Benchmarks/KernelBenchmarks",
      swiftSettings: [.unsafeFlags(["-O"])],
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
    .target(name: "ProbeSupport", path: "Sources/ProbeSupport"),
    .executableTarget(
      name: "gemm-probe",
      dependencies: ["ProbeSupport", .product(name: "GanKernels", package: "swift-gan")],
      path: "Sources/gemm-probe",
      swiftSettings: [.unsafeFlags(["-O"])]
    ),
    .executableTarget(
      name: "train-probe",
      dependencies: ["ProbeSupport", .product(name: "GanTraining", package: "swift-gan"),
                     .product(name: "GanModel", package: "swift-gan"), .product(name: "GanKernels", package: "swift-gan")],
      path: "Sources/train-probe",
      swiftSettings: [.unsafeFlags(["-O"])]
    ),
    .executableTarget(
      name: "sagan-probe",
      dependencies: ["ProbeSupport", .product(name: "GanTraining", package: "swift-gan"),
                     .product(name: "GanModel", package: "swift-gan"), .product(name: "GanKernels", package: "swift-gan")],
      path: "Sources/sagan-probe",
      swiftSettings: [.unsafeFlags(["-O"])]
    ),
    .executableTarget(
      name: "swd-probe",
      dependencies: ["ProbeSupport", .product(name: "GanTraining", package: "swift-gan"),
                     .product(name: "GanModel", package: "swift-gan")],
      path: "Sources/swd-probe",
      swiftSettings: [.unsafeFlags(["-O"])]
    ),
    .executableTarget(
      name: "winograd-probe",
      dependencies: ["ProbeSupport", .product(name: "GanKernels", package: "swift-gan")],
      path: "Sources/winograd-probe",
      swiftSettings: [.unsafeFlags(["-O"])]
    ),
  ],
  swiftLanguageModes: [.v5]
)
