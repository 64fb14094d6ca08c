import Foundation
import GanData
import GanImage
import GanKernels
import GanModel
import GanTraining
import GanTestSupport
import XCTest

/// A small gray dataset written as a uint8 .npy (N, 32, 32): smooth blobs, so D has something to learn.
func makeNpyDataset(in dir: String, count: Int) throws -> Dataset {
  var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (\(count), 32, 32), }"
  while (10 + header.count + 1) % 64 != 0 { header += " " }
  header += "\n"
  var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8)
  for i in 0..<count {
    let cx = Double(8 + (i * 7) % 16), cy = Double(8 + (i * 11) % 16)
    for y in 0..<32 { for x in 0..<32 {
      let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)) / 40
      bytes.append(UInt8(255 * exp(-d)))
    }}
  }
  let path = dir + "/blobs.npy"
  FileManager.default.createFile(atPath: path, contents: Data(bytes))
  return try DatasetLoader.load(.npy(path), size: 32, channels: 1, cacheDirectory: dir + "/cache")
}

final class TrainingTests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-train" }

  func smallConfiguration(threads: Int = 2) throws -> TrainingConfiguration {
    var c = TrainingConfiguration(architecture: try Architecture(imageSize: 32, nz: 16, ngf: 8, ndf: 8, nc: 1))
    c.batchSize = 8
    c.seed = 77
    c.threads = threads
    return c
  }

  func options(_ outf: String, iterations: Int) -> RunOptions {
    smallRunOptions(outf, iterations: iterations, reestimationBatches: 4)
  }

  func tensors(_ path: String) throws -> [String: [Float]] { try fileTensors(path) }

  /// N + M iterations in one run equal N, stop, resume, M, bit for bit (same threads). The data
  /// has 40 images and batch 8, so the resumed part crosses an epoch boundary (5 iterations each).
  /// Trains `total` iterations straight into dir/straight and `first`, then resumed to `total`, into
  /// dir/split, and asserts the two checkpoints are equal bit for bit; returns the straight one.
  func assertResumeMatchesStraightRun(_ cfg: TrainingConfiguration, _ ds: Dataset, total: Int, first: Int,
                                      file: StaticString = #filePath, line: UInt = #line) throws -> [String: [Float]] {
    try TrainingRun(configuration: cfg, dataset: ds, options: options(dir + "/straight", iterations: total)).run()
    try TrainingRun(configuration: cfg, dataset: ds, options: options(dir + "/split", iterations: first)).run()
    var resumed = options(dir + "/split", iterations: total)
    resumed.resume = true
    XCTAssertEqual(try TrainingRun(configuration: cfg, dataset: ds, options: resumed).run(), total, file: file,
                   line: line)
    let a = try tensors(dir + "/straight/checkpoint.safetensors"), b = try tensors(dir + "/split/checkpoint.safetensors")
    XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line)
    for (k, v) in a { XCTAssertEqual(v, b[k], "checkpoint tensor \(k) differs after resume", file: file, line: line) }
    return a
  }

  func testResumeIsExact() throws {
    let ds = try makeNpyDataset(in: dir, count: 40)
    let a = try assertResumeMatchesStraightRun(try smallConfiguration(), ds, total: 7, first: 3)
    XCTAssertGreaterThan(a.count, 30)
    XCTAssertEqual(a["state.iteration"], [7])
    let ga = try tensors(dir + "/straight/generator.safetensors"), gb = try tensors(dir + "/split/generator.safetensors")
    for (k, v) in ga { XCTAssertEqual(v, gb[k], "generator tensor \(k) differs after resume") }
    // The log has one row per iteration, without duplicates from the resumed part.
    let log = try String(contentsOfFile: dir + "/split/log.csv", encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(log.first, "iteration,epoch,Loss_D,Loss_G,D_x,D_G_z1,D_G_z2,seconds,img_per_s,swd,train_seconds")
    XCTAssertEqual(log.dropFirst().map { $0.split(separator: ",")[0] }, (1...7).map { Substring(String($0)) })
    // Files a DCGAN user expects.
    for f in ["real_samples.png", "fake_samples_epoch_000.png", "fake_samples_iter_0000003.png", "report.html",
              "log.csv"] {
      XCTAssert(FileManager.default.fileExists(atPath: dir + "/split/" + f), "missing \(f)")
    }
    let html = try String(contentsOfFile: dir + "/split/report.html", encoding: .utf8)
    XCTAssert(html.contains("<svg") && html.contains("data:image/png;base64,"))
    XCTAssertFalse(html.contains("http://") && html.contains("<script src"))
  }

  /// With enough images, the last --swd-images are held out of training and SWD against them is
  /// logged every --swd-every iterations (log.csv's swd column, report.html's chart); resume
  /// keeps the column and the hold-out.
  func testSWDIsLoggedAgainstAHeldOutSet() throws {
    let ds = try makeNpyDataset(in: dir, count: 72)
    let cfg = try smallConfiguration()
    var o = options(dir + "/swd", iterations: 4)
    o.swdEvery = 2
    o.swdImages = 16
    let run = try TrainingRun(configuration: cfg, dataset: ds, options: o)
    XCTAssertEqual(run.trainCount, 56)
    XCTAssertEqual(run.iterationsPerEpoch, 7)
    try run.run()
    o.iterations = 6
    o.resume = true
    try TrainingRun(configuration: cfg, dataset: ds, options: o).run()
    let rows = try String(contentsOfFile: dir + "/swd/log.csv", encoding: .utf8).split(separator: "\n").dropFirst()
      .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    XCTAssertEqual(rows.map { Int($0[0])! }, [1, 2, 3, 4, 5, 6])
    for r in rows {
      let it = Int(r[0])!
      if it % 2 == 0 {
        let v = Double(r[9])
        XCTAssertNotNil(v, "iteration \(it): no SWD")
        XCTAssertGreaterThan(v ?? 0, 0)
      } else {
        XCTAssertEqual(r[9], "", "iteration \(it)")
      }
    }
    let html = try String(contentsOfFile: dir + "/swd/report.html", encoding: .utf8)
    XCTAssert(html.contains("Sliced Wasserstein distance"))
    // A small dataset: no hold-out, no SWD, training on every image.
    try FileManager.default.createDirectory(atPath: dir + "/s", withIntermediateDirectories: true)
    let small = try TrainingRun(configuration: cfg, dataset: try makeNpyDataset(in: dir + "/s", count: 40), options: o)
    XCTAssertEqual(small.trainCount, 40)
  }

  /// --snapshot-every: generators along the way, equal to the final export at the last iteration,
  /// and no trace in the training state; train_seconds grows and survives a resume.
  func testSnapshotsLeaveTrainingUntouchedAndTrainSecondsAccumulate() throws {
    let ds = try makeNpyDataset(in: dir, count: 24)
    let cfg = try smallConfiguration()
    try TrainingRun(configuration: cfg, dataset: ds, options: options(dir + "/plain", iterations: 4)).run()
    var o = options(dir + "/snap", iterations: 2)
    o.snapshotEvery = 2
    try TrainingRun(configuration: cfg, dataset: ds, options: o).run()
    o.iterations = 4
    o.resume = true
    let run = try TrainingRun(configuration: cfg, dataset: ds, options: o)
    try run.run()
    let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/snap/snapshots").sorted()
    XCTAssertEqual(files, ["generator_iter_0000002.safetensors", "generator_iter_0000004.safetensors"])
    let plain = try tensors(dir + "/plain/checkpoint.safetensors"), snap = try tensors(dir + "/snap/checkpoint.safetensors")
    XCTAssertEqual(Set(plain.keys), Set(snap.keys))
    for (k, v) in plain { XCTAssertEqual(v, snap[k], "\(k): snapshots changed the training state") }
    let last = try tensors(run.snapshotPath(iteration: 4)), final = try tensors(dir + "/plain/generator.safetensors")
    for (k, v) in final { XCTAssertEqual(v, last[k], "\(k): the last snapshot differs from the exported generator") }
    let early = try tensors(run.snapshotPath(iteration: 2))
    XCTAssertNotEqual(early["main.0.weight"], last["main.0.weight"])
    let rows = try String(contentsOfFile: dir + "/snap/log.csv", encoding: .utf8).split(separator: "\n")
    XCTAssert(rows[0].hasSuffix(",swd,train_seconds"), String(rows[0]))
    let seconds = rows.dropFirst().map { Double($0.split(separator: ",", omittingEmptySubsequences: false)[10])! }
    XCTAssertEqual(seconds.count, 4)
    for (a, b) in zip(seconds, seconds.dropFirst()) { XCTAssertGreaterThan(b, a,
        "train_seconds must grow across the resume: \(seconds)") }
  }

  func testResultsDoNotDependOnThreadCount() throws {
    let ds = try makeNpyDataset(in: dir, count: 24)
    try TrainingRun(configuration: try smallConfiguration(threads: 1), dataset: ds, options: options(dir + "/t1",
        iterations: 3)).run()
    try TrainingRun(configuration: try smallConfiguration(threads: 2), dataset: ds, options: options(dir + "/t2",
        iterations: 3)).run()
    let a = try tensors(dir + "/t1/checkpoint.safetensors"), b = try tensors(dir + "/t2/checkpoint.safetensors")
    for (k, v) in a { XCTAssertEqual(v, b[k], "\(k): 1 vs 2 threads") }
  }

  /// gan-train's DCGAN default (Winograd where the training table picks it; ngf = ndf = 32 so that
  /// G's hidden layers and D's layer 1 pick it): bitwise the same weights at 1, 2 and 3 threads.
  func testWinogradResultsDoNotDependOnThreadCount() throws {
    let ds = try makeNpyDataset(in: dir, count: 24)
    var results: [[String: [Float]]] = []
    for threads in [1, 2, 3] {
      var cfg = TrainingConfiguration(architecture: try Architecture(imageSize: 32, nz: 16, ngf: 32, ndf: 32, nc: 1))
      (cfg.batchSize, cfg.seed, cfg.threads, cfg.winograd) = (8, 79, threads, true)
      let run = try TrainingRun(configuration: cfg, dataset: ds, options: options(dir + "/w\(threads)", iterations: 3))
      XCTAssert(run.winogradSummary.contains("F("), run.winogradSummary)
      try run.run()
      results.append(try tensors(dir + "/w\(threads)/checkpoint.safetensors"))
    }
    for (k, v) in results[0] {
      XCTAssertEqual(v, results[1][k], "\(k): 1 vs 2 threads")
      XCTAssertEqual(v, results[2][k], "\(k): 1 vs 3 threads")
    }
  }

  func testNonFiniteLossStopsTrainingAndKeepsTheLastGoodCheckpoint() throws {
    let ds = try makeNpyDataset(in: dir, count: 24)
    var cfg = try smallConfiguration()
    try TrainingRun(configuration: cfg, dataset: ds, options: options(dir + "/nan", iterations: 2)).run()
    let good = try tensors(dir + "/nan/checkpoint.safetensors")
    let goodGenerator = try tensors(dir + "/nan/generator.safetensors")
    // An absurd learning rate drives the weights to infinity within a few steps.
    cfg.learningRate = 1e38
    var o = options(dir + "/nan", iterations: 40)
    o.resume = true
    o.checkpointEvery = 1000
    XCTAssertThrowsError(try TrainingRun(configuration: cfg, dataset: ds, options: o).run()) { e in
      guard case TrainingError.nonFiniteLoss(let it, _) = e else { return XCTFail("unexpected \(e)") }
      XCTAssertGreaterThan(it, 2)
      XCTAssert("\(e)".contains("non-finite loss at iteration"), "\(e)")
    }
    let after = try tensors(dir + "/nan/checkpoint.safetensors")
    for (k, v) in good { XCTAssertEqual(v, after[k], "\(k): the last good checkpoint was overwritten") }
    let generatorAfter = try tensors(dir + "/nan/generator.safetensors")
    for (k, v) in goodGenerator { XCTAssertEqual(v, generatorAfter[k], "\(k): generator.safetensors was overwritten") }
  }

  func testTrainingStepAllocatesNothingAfterTheFirst() throws {
    let trainer = GANTrainer(configuration: try smallConfiguration())
    trainer.initializeWeights()
    var rng = Philox4x32(seed: 1)
    rng.fillNormal(UnsafeMutableBufferPointer(start: trainer.realBatch, count: 8 * 32 * 32))
    rng.fillNormal(UnsafeMutableBufferPointer(start: trainer.generator.input, count: 8 * 16))
    trainer.step()
    let n = heapAllocations { for _ in 0..<5 { trainer.step() } }
    XCTAssertEqual(n, 0, "heap allocations during 5 training steps")
  }

  /// Three iterations of the pytorch/examples loop replayed from PyTorch's weights, data and latents.
  func testThreeStepsMatchPyTorch() throws {
    let f = try Fixtures.open("train3.safetensors")
    var cfg = TrainingConfiguration(architecture: try Architecture(json: f.metadata["arch"]!))
    cfg.batchSize = Int(f.metadata["batch"]!)!
    cfg.threads = 2
    let t = GANTrainer(configuration: cfg)
    try t.loadWeights(from: f)
    let before = (G: t.generator.parameters.spec.parameters.map { t.generator.parameters.torchValue($0.name) },
                  D: t.discriminator.parameters.spec.parameters.map { t.discriminator.parameters.torchValue($0.name) })
    let real = try f.floats("real"), noise = try f.floats("noise"), stats = try f.floats("stats")
    let a = cfg.architecture, B = cfg.batchSize
    let imageCount = B * a.imageSize * a.imageSize * a.nc
    var lossErrors: [Double] = []
    for step in 0..<3 {
      let nhwc = nchwToNHWC(Array(real[(step * imageCount)..<((step + 1) * imageCount)]), n: B, c: a.nc, h: a.imageSize,
                            w: a.imageSize)
      nhwc.withUnsafeBufferPointer { t.realBatch.update(from: $0.baseAddress!, count: imageCount) }
      noise.withUnsafeBufferPointer { t.generator.input.update(from: $0.baseAddress! + step * B * a.nz,
                                                               count: B * a.nz) }
      let s = t.step()
      let want = Array(stats[(step * 5)..<(step * 5 + 5)]).map(Double.init)
      for (got, w) in zip([s.lossD, s.lossG, s.dx, s.dgz1, s.dgz2], want) {
        lossErrors.append(abs(got - w) / abs(w))
        XCTAssertEqual(got, w, accuracy: 1e-4 * abs(w), "step \(step + 1): losses / D outputs \(got) vs PyTorch \(w)")
      }
    }
    print("train3: max relative error of losses and D outputs: \(lossErrors.max()!)")
    var total = 0, outliers = 0
    var diffNorm = 0.0, updateNorm = 0.0
    for (net, params, initial) in [("G", t.generator.parameters, before.G), ("D", t.discriminator.parameters,
        before.D)] {
      for (i, s) in params.spec.parameters.enumerated() {
        let got = params.torchValue(s.name), want = try f.floats("after.\(net).\(s.name)")
        for j in 0..<got.count {
          total += 1
          if abs(got[j] - want[j]) > 1e-4 * abs(want[j]) + 1e-7 { outliers += 1 }
          let du = Double(got[j] - initial[i][j]), dw = Double(want[j] - initial[i][j])
          diffNorm += (du - dw) * (du - dw)
          updateNorm += dw * dw
        }
      }
    }
    let updateError = (diffNorm / updateNorm).squareRoot()
    print("train3: \(outliers) of \(total) weights outside 1e-4 relative; whole update relative error \(updateError)")
    XCTAssertLessThanOrEqual(Double(outliers), 0.001 * Double(total), "weights outside 1e-4 relative")
    XCTAssertLessThan(updateError, 0.01, "whole weight update relative error")
  }

  /// Every purpose draws from its own stream: the initial weights are not the SWD latents of batch
  /// 0 scaled by 0.02 (they were, when initialization used stream 5 << 40).
  func testWeightInitializationHasItsOwnStream() throws {
    XCTAssertEqual(Set(RunRandomness.streamBases).count, RunRandomness.streamBases.count)
    let trainer = GANTrainer(configuration: try smallConfiguration())
    trainer.initializeWeights()
    var swd = [Float](repeating: 0, count: 64)
    swd.withUnsafeMutableBufferPointer { RunRandomness(seed: trainer.configuration.seed).swdNoise(batch: 0, into: $0.baseAddress!, count: 64) }
    let weights = (0..<64).map { trainer.generator.parameters.values[$0] / 0.02 }
    XCTAssertGreaterThan(maxAbs(weights, swd), 0.1, "initial weights repeat the SWD latents")
  }

  /// --no-shuffle keeps file order; shuffled epochs are permutations that differ per epoch and seed.
  func testDataOrder() {
    let r = RunRandomness(seed: 5)
    XCTAssertEqual(r.order(epoch: 3, count: 10, shuffle: false), Array(0..<10))
    let e0 = r.order(epoch: 0, count: 100, shuffle: true), e1 = r.order(epoch: 1, count: 100, shuffle: true)
    XCTAssertEqual(e0.sorted(), Array(0..<100))
    XCTAssertNotEqual(e0, e1)
    XCTAssertNotEqual(e0, RunRandomness(seed: 6).order(epoch: 0, count: 100, shuffle: true))
    XCTAssertEqual(e0, RunRandomness(seed: 5).order(epoch: 0, count: 100, shuffle: true))
  }

  /// --noise: iteration t takes rows t*B ..< (t+1)*B of the file, in order; too few rows is an error.
  func testNoiseRowsAreUsedInOrder() throws {
    let ds = try makeNpyDataset(in: dir, count: 24)
    let cfg = try smallConfiguration()
    var o = options(dir + "/noise", iterations: 3)
    o.noise = (0..<(3 * 8 * 16)).map { Float($0) / 1000 }
    let run = try TrainingRun(configuration: cfg, dataset: ds, options: o)
    try run.run()
    // After the run the generator's input holds iteration 3's latents: rows 16..<24.
    let input = Array(UnsafeBufferPointer(start: run.trainer.generator.input, count: 8 * 16))
    XCTAssertEqual(input, Array(o.noise![(2 * 8 * 16)..<(3 * 8 * 16)]))
    var short = options(dir + "/noise2", iterations: 4)
    short.noise = o.noise
    XCTAssertThrowsError(try TrainingRun(configuration: cfg, dataset: ds, options: short).run()) { e in
      XCTAssert("\(e)".contains("--noise holds 24 latents"), "\(e)")
    }
  }

  /// --init starts from another file's G and D weights (fresh Adam state and iteration count).
  func testInitStartsFromGivenWeights() throws {
    let ds = try makeNpyDataset(in: dir, count: 24)
    let cfg = try smallConfiguration()
    try TrainingRun(configuration: cfg, dataset: ds, options: options(dir + "/a", iterations: 2)).run()
    let source = try SafeTensorsFile(path: dir + "/a/checkpoint.safetensors")
    var o = options(dir + "/b", iterations: 1)
    o.initFrom = dir + "/a/checkpoint.safetensors"
    var c2 = cfg
    c2.learningRate = 0  // no update: the weights after one step are the loaded ones
    let run = try TrainingRun(configuration: c2, dataset: ds, options: o)
    try run.run()
    for spec in run.trainer.generator.parameters.spec.parameters {
      XCTAssertEqual(run.trainer.generator.parameters.torchValue(spec.name), try source.floats("G." + spec.name),
                     spec.name)
    }
    for spec in run.trainer.discriminator.parameters.spec.parameters {
      XCTAssertEqual(run.trainer.discriminator.parameters.torchValue(spec.name), try source.floats("D." + spec.name),
                     spec.name)
    }
    XCTAssertEqual(try SafeTensorsFile(path: dir + "/b/checkpoint.safetensors").integers("state.iteration"), [1])
  }
}

extension TrainingTests {
  /// With Winograd on (ngf = ndf = 32, so G's 128 -> 64 and 64 -> 32 layers, D's 64 -> 128
  /// convolution and its backward-data qualify): N + M iterations equal N, stop, resume, M, bit for
  /// bit, and the weights differ from the direct kernels' run (the Winograd passes ran).
  func testResumeIsExactWithWinograd() throws {
    let ds = try makeNpyDataset(in: dir, count: 40)
    var cfg = TrainingConfiguration(architecture: try Architecture(imageSize: 32, nz: 16, ngf: 32, ndf: 32, nc: 1))
    cfg.batchSize = 8
    cfg.seed = 78
    cfg.threads = 2
    let direct = cfg
    cfg.winograd = true
    let a = try assertResumeMatchesStraightRun(cfg, ds, total: 5, first: 2)
    try TrainingRun(configuration: direct, dataset: ds, options: options(dir + "/direct", iterations: 5)).run()
    let d = try tensors(dir + "/direct/checkpoint.safetensors")
    let weights = a.keys.filter { $0.hasSuffix(".weight") && !$0.contains("opt") }
    XCTAssertFalse(weights.isEmpty)
    XCTAssert(weights.contains { a[$0] != d[$0] }, "Winograd training gave the direct kernels' weights bit for bit")
  }
}
