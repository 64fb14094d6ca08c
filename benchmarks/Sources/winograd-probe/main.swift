// Winograd F(2x2, 2x2) and F(4x4, 2x2) against the direct phase kernels on the DCGAN-64 layers:
// G2-G4 ConvTranspose2d forward (packed weights, ReLU epilogue, as gan-gen runs them) at batch 1
// and 64, and D2-D4 Conv2d forward and backward-data at batch 64 (as gan-train runs them), then
// the weight transform each Winograd layer costs per optimizer step in training. Methods alternate
// within each round and every figure is the median over rounds of per-round medians, so a noisy
// host moves all columns together. Usage: winograd-probe [threads] [rounds] [repeats]
import GanKernels
import ProbeSupport
#if canImport(Glibc)
import Glibc
#endif

let threads = positionalInt(1, name: "threads", default: Kernels.defaultThreads)
let rounds = positionalInt(2, name: "rounds", default: 5)
let repeats = positionalInt(3, name: "repeats", default: 9)

func fixed(_ x: Double, _ d: Int) -> String {
  var s = "\(Int((x * pow(10, Double(d))).rounded()))"
  if d == 0 { return s }
  while s.count <= d { s = "0" + s }
  s.insert(".", at: s.index(s.endIndex, offsetBy: -d))
  return s
}

struct Case {
  let name: String
  let pick: Int?  // the tile gan-gen's table gives this layer (0: direct, nil: not an inference layer)
  let trainPick: Int?  // the tile gan-train's table gives it (nil: not a training pass)
  let direct: () -> Void
  let winograd: [(tile: Int, run: () -> Void)]
}

var cases: [Case] = []
let deconv: [(String, Int, Int, Int)] = [("G2", 4, 512, 256), ("G3", 8, 256, 128), ("G4", 16, 128, 64)]
for batch in [1, 64] {
  for (name, side, cin, cout) in deconv {
    let s = ConvShape(batch: batch, height: side, width: side, inChannels: cin, outChannels: cout)
    let x = probeBuffer(batch * side * side * cin), w = probeBuffer(16 * cin * cout), y = probeBuffer(batch * 4 * side * side * cout)
    let bias = probeBuffer(cout)
    let packed = probeBuffer(Deconv4s2.packedCount(inChannels: cin, outChannels: cout))
    Deconv4s2.packWeights(inChannels: cin, outChannels: cout, weights: w, into: packed)
    let ws = UnsafeMutableRawPointer.allocate(byteCount: Deconv4s2.workspaceBytes(s, threads: threads) + 64, alignment: 64)
    let ep = Epilogue(bias: bias, activation: .relu)
    var winograd: [(Int, () -> Void)] = []
    for tile in WinogradDeconv4s2.tiles where WinogradDeconv4s2.supports(tile: tile, s) {
      let p = probeBuffer(WinogradDeconv4s2.packedCount(tile: tile, inChannels: cin, outChannels: cout))
      WinogradDeconv4s2.packWeights(tile: tile, inChannels: cin, outChannels: cout, weights: w, into: p)
      let wws = UnsafeMutableRawPointer.allocate(byteCount: WinogradDeconv4s2.workspaceBytes(tile: tile, s, threads: threads) + 64, alignment: 64)
      winograd.append((tile, { WinogradDeconv4s2.forward(tile: tile, s, x: x, packedWeights: p, y: y, epilogue: ep, workspace: wws, threads: threads) }))
    }
    cases.append(Case(name: "\(name) deconv forward b\(batch)",
                      pick: AlgorithmPolicy.inferenceDeconvolutionTile(height: side, inChannels: cin, outChannels: cout),
                      trainPick: batch == 1 ? nil
                        : AlgorithmPolicy.trainingDeconvolutionTile(batch: batch, height: side, inChannels: cin, outChannels: cout),
                      direct: { Deconv4s2.forward(s, x: x, packedWeights: packed, y: y, epilogue: ep, workspace: ws, threads: threads) },
                      winograd: winograd))
  }
}
let conv: [(String, Int, Int, Int)] = [("D2", 32, 64, 128), ("D3", 16, 128, 256), ("D4", 8, 256, 512)]
for (name, side, cin, cout) in conv {
  let batch = 64
  let s = ConvShape(batch: batch, height: side, width: side, inChannels: cin, outChannels: cout)
  let t = ConvShape(batch: batch, height: side / 2, width: side / 2, inChannels: cout, outChannels: cin)
  let dy = probeBuffer(batch * side * side / 4 * cout), w = probeBuffer(16 * cin * cout), dx = probeBuffer(batch * side * side * cin)
  let ws = UnsafeMutableRawPointer.allocate(byteCount: Conv4s2.workspaceBytes(s, threads: threads) + 64, alignment: 64)
  var winograd: [(Int, () -> Void)] = []
  for tile in WinogradDeconv4s2.tiles where WinogradDeconv4s2.supports(tile: tile, t) {
    let p = probeBuffer(WinogradDeconv4s2.packedCount(tile: tile, inChannels: cout, outChannels: cin))
    WinogradDeconv4s2.packWeights(tile: tile, inChannels: cout, outChannels: cin, weights: w, transposed: true, into: p)
    let wws = UnsafeMutableRawPointer.allocate(byteCount: WinogradDeconv4s2.workspaceBytes(tile: tile, t, threads: threads) + 64, alignment: 64)
    winograd.append((tile, { WinogradDeconv4s2.forward(tile: tile, t, x: dy, packedWeights: p, y: dx, workspace: wws, threads: threads) }))
  }
  var fwinograd: [(Int, () -> Void)] = []
  let x = probeBuffer(batch * side * side * cin), y = probeBuffer(batch * side * side / 4 * cout)
  let lrelu = Epilogue(activation: .leakyRelu(0.2))
  for tile in WinogradConv4s2.tiles where WinogradConv4s2.supports(tile: tile, s) {
    let p = probeBuffer(WinogradConv4s2.packedCount(tile: tile, inChannels: cin, outChannels: cout))
    WinogradConv4s2.packWeights(tile: tile, inChannels: cin, outChannels: cout, weights: w, into: p)
    let wws = UnsafeMutableRawPointer.allocate(byteCount: WinogradConv4s2.workspaceBytes(tile: tile, s, threads: threads) + 64, alignment: 64)
    fwinograd.append((tile, { WinogradConv4s2.forward(tile: tile, s, x: x, packedWeights: p, y: y, epilogue: lrelu, workspace: wws, threads: threads) }))
  }
  cases.append(Case(name: "\(name) conv forward b\(batch)",
                    pick: nil, trainPick: AlgorithmPolicy.trainingConvolutionTile(height: side, inChannels: cin, outChannels: cout),
                    direct: { Conv4s2.forward(s, x: x, weights: w, y: y, epilogue: lrelu, workspace: ws, threads: threads) },
                    winograd: fwinograd))
  cases.append(Case(name: "\(name) conv backward-data b\(batch)",
                    pick: nil,
                    trainPick: AlgorithmPolicy.trainingBackwardDataTile(height: t.height, inChannels: t.inChannels, outChannels: t.outChannels),
                    direct: { Conv4s2.backwardData(s, dy: dy, weights: w, dx: dx, workspace: ws, threads: threads) },
                    winograd: winograd))
}

print("winograd-probe: GEMM \(Kernels.selectedGemmVariant.name), \(threads) threads, \(rounds) rounds x median of \(repeats); cpu: \(Kernels.cpuFeatures)")
print("| layer | direct ms | F(2x2,2x2) ms | F(4x4,2x2) ms | F2 speedup | F4 speedup | gan-gen picks | gan-train picks |")
print("|---|---|---|---|---|---|---|---|")
for c in cases {
  var direct: [Double] = [], winograd: [Int: [Double]] = [:]
  for _ in 0..<rounds {
    direct.append(medianSeconds(repeats: repeats, c.direct))
    for (tile, run) in c.winograd { winograd[tile, default: []].append(medianSeconds(repeats: repeats, run)) }
  }
  let d = median(direct)
  func col(_ tile: Int) -> (String, String) {
    guard let v = winograd[tile] else { return ("-", "-") }
    let m = median(v)
    return (fixed(m * 1e3, 3), fixed(d / m, 2) + "x")
  }
  let (f2, s2) = col(2), (f4, s4) = col(4)
  func name(_ t: Int?) -> String { t.map { $0 == 0 ? "direct" : "F\($0)" } ?? "-" }
  print("| \(c.name) | \(fixed(d * 1e3, 3)) | \(f2) | \(f4) | \(s2) | \(s4) | \(name(c.pick)) | \(name(c.trainPick)) |")
  fflush(stdout)
}

// Training re-derives every Winograd layer's transformed weights once per optimizer step: a layer
// pays when (runs per iteration) x (direct - Winograd) exceeds this. "reference": the two-pass
// packer (transform into a scratch, then the GEMM's pack, one thread) the fused one replaced.
print("")
print("| weight transform per step | F(2x2,2x2) ms | reference | F(4x4,2x2) ms | reference |")
print("|---|---|---|---|---|")
struct Transform { let name: String; let run: [Int: () -> Void]; let reference: [Int: () -> Void] }
var transforms: [Transform] = []
for (name, _, cin, cout) in deconv {
  let w = probeBuffer(16 * cin * cout)
  var run: [Int: () -> Void] = [:], ref: [Int: () -> Void] = [:]
  for tile in WinogradDeconv4s2.tiles {
    let p = probeBuffer(WinogradDeconv4s2.packedCount(tile: tile, inChannels: cin, outChannels: cout))
    let scratch = probeBuffer(WinogradDeconv4s2.scratchCount(tile: tile, inChannels: cin, outChannels: cout))
    run[tile] = { WinogradDeconv4s2.packWeights(tile: tile, inChannels: cin, outChannels: cout, weights: w, into: p, threads: threads) }
    ref[tile] = { WinogradDeconv4s2.packWeightsReference(tile: tile, inChannels: cin, outChannels: cout, weights: w, into: p, scratch: scratch) }
  }
  transforms.append(Transform(name: "\(name) deconv", run: run, reference: ref))
}
for (name, _, cin, cout) in conv {
  let w = probeBuffer(16 * cin * cout)
  var fwd: [Int: () -> Void] = [:], bd: [Int: () -> Void] = [:], fwdRef: [Int: () -> Void] = [:], bdRef: [Int: () -> Void] = [:]
  for tile in WinogradConv4s2.tiles {
    let p = probeBuffer(WinogradConv4s2.packedCount(tile: tile, inChannels: cin, outChannels: cout))
    let scratch = probeBuffer(WinogradConv4s2.scratchCount(tile: tile, inChannels: cin, outChannels: cout))
    fwd[tile] = { WinogradConv4s2.packWeights(tile: tile, inChannels: cin, outChannels: cout, weights: w, into: p, threads: threads) }
    fwdRef[tile] = { WinogradConv4s2.packWeightsReference(tile: tile, inChannels: cin, outChannels: cout, weights: w, into: p, scratch: scratch) }
    let q = probeBuffer(WinogradDeconv4s2.packedCount(tile: tile, inChannels: cout, outChannels: cin))
    let qs = probeBuffer(WinogradDeconv4s2.scratchCount(tile: tile, inChannels: cout, outChannels: cin))
    bd[tile] = { WinogradDeconv4s2.packWeights(tile: tile, inChannels: cout, outChannels: cin, weights: w, transposed: true, into: q, threads: threads) }
    bdRef[tile] = { WinogradDeconv4s2.packWeightsReference(tile: tile, inChannels: cout, outChannels: cin, weights: w, transposed: true, into: q, scratch: qs) }
  }
  transforms.append(Transform(name: "\(name) conv forward", run: fwd, reference: fwdRef))
  transforms.append(Transform(name: "\(name) conv backward-data", run: bd, reference: bdRef))
}
for t in transforms {
  var v: [Int: [Double]] = [:], r: [Int: [Double]] = [:]
  for _ in 0..<rounds {
    for tile in [2, 4] {
      v[tile, default: []].append(medianSeconds(repeats: repeats, t.run[tile]!))
      r[tile, default: []].append(medianSeconds(repeats: repeats, t.reference[tile]!))
    }
  }
  print("| \(t.name) | \(fixed(median(v[2]!) * 1e3, 3)) | \(fixed(median(r[2]!) * 1e3, 3)) | \(fixed(median(v[4]!) * 1e3, 3)) | \(fixed(median(r[4]!) * 1e3, 3)) |")
  fflush(stdout)
}
