import XCTest
import GanModel
import GanTestSupport
import GanTraining

/// Fixtures written by tools/make_fixtures.py (PyTorch layouts: NCHW activations).
enum Fixtures {
  static let directory: String = {
    var path = #filePath
    path = String(path[..<path.lastIndex(of: "/")!])
    return path + "/Fixtures"
  }()

  static func open(_ name: String) throws -> SafeTensorsFile {
    try SafeTensorsFile(path: directory + "/" + name)
  }
}

extension SafeTensorsFile {
  /// The training configuration a step fixture was made with: its `arch` metadata (architecture,
  /// lr_g, lr_d, beta1, beta2, and gp_lambda for the penalty losses) and `batch`, with `loss`.
  func stepConfiguration(loss: GANLoss, threads: Int) throws -> TrainingConfiguration {
    let json = metadata["arch"]!, meta = try JSON.parse(json)
    var cfg = TrainingConfiguration(architecture: try Architecture(json: json))
    cfg.batchSize = Int(metadata["batch"]!)!
    cfg.threads = threads
    cfg.loss = loss
    if let lambda = meta["gp_lambda"]?.doubleValue { cfg.gradientPenaltyWeight = Float(lambda) }
    cfg.generatorLearningRate = Float(meta["lr_g"]!.doubleValue!)
    cfg.discriminatorLearningRate = Float(meta["lr_d"]!.doubleValue!)
    cfg.beta1 = Float(meta["beta1"]!.doubleValue!)
    cfg.beta2 = Float(meta["beta2"]!.doubleValue!)
    return cfg
  }

  /// A tensor and its shape.
  func tensor(_ name: String) throws -> (values: [Float], shape: [Int]) {
    guard let e = entry(name) else { throw GanError.invalidFile(path: path, reason: "missing \(name)") }
    return (try floats(name), e.shape)
  }

  /// An NCHW tensor converted to NHWC.
  func nhwc(_ name: String) throws -> [Float] {
    let (v, s) = try tensor(name)
    precondition(s.count == 4, "\(name) is not 4-D")
    return nchwToNHWC(v, n: s[0], c: s[1], h: s[2], w: s[3])
  }
}

/// Relative infinity-norm error: max |got - want| / max |want|.
func relativeInfError(_ got: [Float], _ want: [Float]) -> Float {
  precondition(got.count == want.count, "size \(got.count) vs \(want.count)")
  var d: Float = 0, m: Float = 0
  for i in 0..<got.count {
    d = max(d, abs(got[i] - want[i]))
    m = max(m, abs(want[i]))
  }
  return d / max(m, 1e-30)
}

func assertMatches(_ got: [Float], _ want: [Float], _ what: String, tolerance: Float = 1e-4,
                   file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(got.count, want.count, what, file: file, line: line)
  guard got.count == want.count else { return }
  let e = relativeInfError(got, want)
  print("fixture \(what): relative inf-norm error \(e)")
  XCTAssert(e <= tolerance, "\(what): relative inf-norm error \(e) > \(tolerance)", file: file, line: line)
  XCTAssertFalse(got.contains { !$0.isFinite }, "\(what): non-finite values", file: file, line: line)
}

/// An owned float buffer with a stable pointer (tests hand pointers to kernels).
final class Buf {
  let p: UnsafeMutablePointer<Float>
  let count: Int
  init(_ values: [Float]) {
    count = values.count
    p = .allocate(capacity: max(count, 1))
    for i in 0..<count { p[i] = values[i] }
  }
  init(zeros n: Int) {
    count = n
    p = .allocate(capacity: max(n, 1))
    p.initialize(repeating: 0, count: max(n, 1))
  }
  var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
  deinit { p.deallocate() }
}

/// A 64-byte aligned block for kernel workspaces.
final class Scratch {
  let raw: UnsafeMutableRawPointer
  init(_ bytes: Int) { raw = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64) }
  deinit { raw.deallocate() }
}

/// The trainer's G and D (parameters, and buffers: spectral norm's u and v, BatchNorm's running
/// statistics) against a fixture's `after.G.` / `after.D.` tensors within `tolerance` relative
/// each. Returns the worst error and its tensor.
///
/// The attention block's key bias is held to 1e-7 absolute instead: it adds q_i . b to every entry
/// of row i of the scores, which the softmax ignores, so its gradient is 0 up to rounding
/// (PyTorch's and ours differ in sign at ~1e-10) and Adam turns that noise into steps of
/// lr * g / eps: both stay within 1e-7 of 0, a thousandth of the lr-sized steps of the others.
@discardableResult
func assertWeightsMatch(_ t: GANTrainer, _ f: SafeTensorsFile, tolerance: Float = 1e-3, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) throws -> (Float, String) {
  var worst: (Float, String) = (0, "")
  for (prefix, p) in [("G.", t.generator.parameters), ("D.", t.discriminator.parameters)] {
    for s in p.spec.parameters + p.spec.buffers {
      let isBuffer = p.spec.buffers.contains(s)
      var got = [Float](repeating: 0, count: s.count)
      got.withUnsafeMutableBufferPointer { s.layout.toTorch((isBuffer ? p.buffers : p.values) + s.offset,
                                                            to: $0.baseAddress!) }
      let want = try f.floats("after." + prefix + s.name)
      if s.name == "attention.key.bias" {
        for k in 0..<got.count {
          XCTAssert(abs(got[k]) <= 1e-7 && abs(want[k]) <= 1e-7, "\(what) \(prefix)\(s.name): \(got[k]) vs \(want[k])",
                    file: file, line: line)
        }
        continue
      }
      let e = relativeInfError(got, want)
      if e > worst.0 { worst = (e, prefix + s.name) }
      XCTAssert(e <= tolerance, "\(what) \(prefix)\(s.name): relative error \(e)", file: file, line: line)
    }
  }
  return worst
}

/// Options of the small test runs: samples every 3 iterations, a checkpoint every 2, no log.
func smallRunOptions(_ outf: String, iterations: Int, reestimationBatches: Int) -> RunOptions {
  var o = RunOptions()
  o.outf = outf
  o.iterations = iterations
  o.sampleEvery = 3
  o.checkpointEvery = 2
  o.reestimationBatches = reestimationBatches
  o.log = { _ in }
  return o
}

/// Every tensor of a safetensors file as floats (integers converted), by name: checkpoints and
/// generators compared bit for bit.
func fileTensors(_ path: String) throws -> [String: [Float]] {
  let f = try SafeTensorsFile(path: path)
  var out: [String: [Float]] = [:]
  for e in f.entries where e.dtype == .F32 { out[e.name] = try f.floats(e.name) }
  for e in f.entries where e.dtype == .I64 { out[e.name] = try f.integers(e.name).map { Float($0) } }
  return out
}
