// Median GFLOP/s of swift-gan's GEMM-based kernels on the shapes compared with numpy/OpenBLAS
// (peers/gemm_openblas.py prints the same table). Usage: gemm-probe [threads] [repeats]
import GanKernels
import ProbeSupport
#if canImport(Glibc)
import Glibc
#endif

let threads = positionalInt(1, name: "threads", default: Kernels.defaultThreads)
let repeats = positionalInt(2, name: "repeats", default: 21)

func report(_ name: String, flops: Double, _ s: Double) {
  let padded = name + String(repeating: " ", count: max(0, 34 - name.count))
  print("\(padded) \(String(format3(s * 1e3))) ms  \(String(format1(flops / s * 1e-9))) GFLOP/s")
}
func format3(_ x: Double) -> String { let v = (x * 1000).rounded() / 1000; return "\(v)" }
func format1(_ x: Double) -> String { let v = (x * 10).rounded() / 10; return "\(v)" }

print("swift-gan \(Kernels.selectedGemmVariant.name), \(threads) threads, median of \(repeats); cpu: \(Kernels.cpuFeatures)")
do {
  let (m, n, k) = (256, 1024, 2048)
  let a = probeBuffer(m * k), b = probeBuffer(k * n), c = probeBuffer(m * n)
  let ws = UnsafeMutableRawPointer.allocate(byteCount: Gemm.workspaceBytes(m: m, n: n, k: k, threads: threads), alignment: 64)
  report("gemm M256 N1024 K2048", flops: 2.0 * Double(m * n * k), medianSeconds(repeats: repeats, warmup: 2) {
    Gemm.run(m: m, n: n, k: k, a: a, b: b, c: c, workspace: ws, threads: threads)
  })
}
// G64 layers at batch 64: G1 is one GEMM (64 x 8192 x 100); G2..G5 are four phase GEMMs each
// (M = 64*h*w, K = 4*cin, N = cout), timed as the whole layer.
do {
  let batch = 64
  let x = probeBuffer(batch * 100), w = probeBuffer(100 * 8192), y = probeBuffer(batch * 8192)
  let ws = UnsafeMutableRawPointer.allocate(byteCount: Dense.workspaceBytes(batch: batch, inFeatures: 100, outFeatures: 8192, threads: threads), alignment: 64)
  report("G1 b64 (M64 N8192 K100)", flops: 2.0 * Double(batch * 100 * 8192), medianSeconds(repeats: repeats, warmup: 2) {
    Dense.forward(batch: batch, inFeatures: 100, outFeatures: 8192, x: x, weights: w, y: y, workspace: ws, threads: threads)
  })
}
for (name, side, cin, cout) in [("G2", 4, 512, 256), ("G3", 8, 256, 128), ("G4", 16, 128, 64), ("G5", 32, 64, 3)] {
  let batch = 64
  let s = ConvShape(batch: batch, height: side, width: side, inChannels: cin, outChannels: cout)
  let x = probeBuffer(batch * side * side * cin), w = probeBuffer(s.weightCount), y = probeBuffer(batch * 4 * side * side * cout)
  let ws = UnsafeMutableRawPointer.allocate(byteCount: Deconv4s2.workspaceBytes(s, threads: threads), alignment: 64)
  let m = batch * side * side
  report("\(name) b64 (4x M\(m) N\(cout) K\(4 * cin))", flops: 2.0 * 4 * Double(m * cout * 4 * cin), medianSeconds(repeats: repeats, warmup: 2) {
    Deconv4s2.forward(s, x: x, weights: w, y: y, workspace: ws, threads: threads)
  })
}

// G5 (3 output channels) as the layer runs: the direct narrow kernel, no window gather.
do {
  let batch = 64, side = 32, cin = 64, cout = 3
  let s = ConvShape(batch: batch, height: side, width: side, inChannels: cin, outChannels: cout)
  let x = probeBuffer(batch * side * side * cin), w = probeBuffer(s.weightCount), y = probeBuffer(batch * 4 * side * side * cout)
  let packed = probeBuffer(NarrowDeconv4s2.packedCount(inChannels: cin, outChannels: cout))
  NarrowDeconv4s2.packWeights(inChannels: cin, outChannels: cout, weights: w, into: packed)
  let m = batch * side * side
  report("G5 b64 narrow (4x M\(m) N3 K256)", flops: 2.0 * 4 * Double(m * cout * 4 * cin), medianSeconds(repeats: repeats, warmup: 2) {
    NarrowDeconv4s2.forward(s, x: x, packedWeights: packed, bias: nil, activation: .tanh, y: y, threads: threads)
  })
}
