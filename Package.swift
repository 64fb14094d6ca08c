// swift-tools-version:6.1
import PackageDescription

// OpenMP comes from Debian's libomp-dev (LLVM's runtime; installed by .ci/run and the README's
// main command). The kernels are compiled -O3 in every configuration: tests run them at speed.
let openMPLibraryPaths = ["/usr/lib/llvm-14/lib", "/usr/lib/llvm-15/lib", "/usr/lib/llvm-16/lib"]

let package = Package(
  name: "swift-gan",
  products: [
    .library(name: "GanKernels", targets: ["GanKernels"]),
    .library(name: "GanModel", targets: ["GanModel"]),
    .library(name: "GanTraining", targets: ["GanTraining"]),
  ],
  targets: [
    .target(
      name: "CGanKernels",
      path: "Kernels",
      publicHeadersPath: "include",
      cSettings: [.unsafeFlags(["-O3", "-fopenmp", "-Wall", "-Wno-unknown-pragmas"])],
      linkerSettings: [
        .unsafeFlags(openMPLibraryPaths.map { "-L\($0)" }),
        .linkedLibrary("omp"),
        .linkedLibrary("m"),
      ]
    ),
    .target(
      name: "GanKernels",
      dependencies: ["CGanKernels"],
      swiftSettings: [.unsafeFlags(["-Ounchecked"])]
    ),
    .target(name: "GanModel", dependencies: ["GanKernels"]),
    .target(name: "GanTraining", dependencies: ["GanKernels", "GanModel"]),
    .testTarget(name: "KernelTests", dependencies: ["GanKernels", "CGanKernels"],
                swiftSettings: [.unsafeFlags(["-O"])]),
    .testTarget(name: "GanModelTests", dependencies: ["GanModel"]),
    .testTarget(name: "GanTrainingTests", dependencies: ["GanTraining", "GanModel", "GanKernels"],
                exclude: ["Fixtures"],
                swiftSettings: [.unsafeFlags(["-O"])]),
  ],
  swiftLanguageModes: [.v5]
)
