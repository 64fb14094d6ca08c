import Foundation
import GanData
import GanKernels
import GanModel
import GanRuntime
import GanTestSupport
import GanTraining
import XCTest

/// Whole SAGAN training runs on the small blob dataset with three made-up classes: exact resume
/// (n-dis 2, across epoch boundaries), thread-count independence, --keep-best, allocation-free
/// steps, and the exported generator read back by gan-gen's runtime.
final class SAGANTrainingRunTests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-train-sagan" }

  func configuration(conditional: Bool = true, threads: Int = 2) throws -> TrainingConfiguration {
    var c = TrainingConfiguration(architecture: try Architecture(imageSize: 32, nz: 16, ngf: 8, ndf: 8, nc: 1,
                                                                 family: .sagan, classes: conditional ? 3 : 0))
    c.batchSize = 8
    c.seed = 5
    c.threads = threads
    c.loss = .hinge
    c.criticSteps = 2
    (c.generatorLearningRate, c.discriminatorLearningRate, c.beta1, c.beta2) = (1e-4, 4e-4, 0, 0.9)
    return c
  }

  func labels(_ ds: Dataset) -> DatasetLabels {
    DatasetLabels(classNames: ["left", "middle", "right"], labels: (0..<ds.count).map { Int32($0 % 3) })
  }

  func options(_ outf: String, iterations: Int) -> RunOptions {
    var o = smallRunOptions(outf, iterations: iterations, reestimationBatches: 3)
    o.swdEvery = 0
    return o
  }

  func tensors(_ path: String) throws -> [String: [Float]] { try fileTensors(path) }

  /// 40 images, batch 8, 2 D steps per iteration: 5 batches an epoch, so epochs end inside
  /// iterations; N + M equals N, resume, M, bit for bit.
  func testResumeIsExactWithCriticSteps() throws {
    let ds = try makeNpyDataset(in: dir, count: 40), cfg = try configuration()
    try TrainingRun(configuration: cfg, dataset: ds, labels: labels(ds), options: options(dir + "/straight",
                                                                                          iterations: 7)).run()
    try TrainingRun(configuration: cfg, dataset: ds, labels: labels(ds), options: options(dir + "/split",
                                                                                          iterations: 3)).run()
    var resumed = options(dir + "/split", iterations: 7)
    resumed.resume = true
    XCTAssertEqual(try TrainingRun(configuration: cfg, dataset: ds, labels: labels(ds), options: resumed).run(), 7)
    let a = try tensors(dir + "/straight/checkpoint.safetensors"), b = try tensors(dir + "/split/checkpoint.safetensors")
    XCTAssertEqual(Set(a.keys), Set(b.keys))
    XCTAssert(a.keys.contains("G.blocks.1.bn.gain.weight") && a.keys.contains("D.embed.weight_u"))
    for (k, v) in a { XCTAssertEqual(v, b[k], "checkpoint tensor \(k) differs after resume") }
    let g = try SafeTensorsFile(path: dir + "/straight/generator.safetensors")
    XCTAssertEqual(g.metadata["gan.classes"], "[\"left\",\"middle\",\"right\"]")
    XCTAssertEqual(try Architecture(json: g.metadata["gan.arch"]!), cfg.architecture)
  }

  func testResultsDoNotDependOnThreadCount() throws {
    let ds = try makeNpyDataset(in: dir, count: 24)
    for t in [1, 2] {
      try TrainingRun(configuration: try configuration(threads: t), dataset: ds, labels: labels(ds),
                      options: options(dir + "/t\(t)", iterations: 2)).run()
    }
    let a = try tensors(dir + "/t1/checkpoint.safetensors"), b = try tensors(dir + "/t2/checkpoint.safetensors")
    for (k, v) in a { XCTAssertEqual(v, b[k], "\(k): 1 vs 2 threads") }
  }

  /// --keep-best writes generator_best.safetensors at the first SWD and whenever it improves;
  /// an unconditional SAGAN trains the same way without labels.
  func testKeepBestAndUnconditionalSAGAN() throws {
    let ds = try makeNpyDataset(in: dir, count: 48)
    var o = options(dir + "/best", iterations: 6)
    o.swdEvery = 2
    o.swdImages = 8
    o.keepBest = true
    var lines: [String] = []
    o.log = { lines.append($0) }
    let run = try TrainingRun(configuration: try configuration(conditional: false), dataset: ds, options: o)
    try run.run()
    let best = lines.filter { $0.contains("is the best so far") }
    XCTAssertGreaterThanOrEqual(best.count, 1, "\(lines)")
    XCTAssert(FileManager.default.fileExists(atPath: dir + "/best/generator_best.safetensors"))
    let r = try GeneratorRuntime(path: dir + "/best/generator_best.safetensors", maxBatch: 2, threads: 1)
    XCTAssert(r.architecture.isSAGAN && !r.architecture.isConditional)
    XCTAssertThrowsError(try TrainingRun(configuration: try configuration(), dataset: ds, options: o)) { e in
      XCTAssert("\(e)".contains("needs class labels"), "\(e)")
    }
  }

  /// gan-gen's runtime on the exported file reproduces the training generator's eval mode.
  func testExportedGeneratorMatchesTrainingEvalMode() throws {
    let ds = try makeNpyDataset(in: dir, count: 24), cfg = try configuration()
    let run = try TrainingRun(configuration: cfg, dataset: ds, labels: labels(ds), options: options(dir + "/e",
                                                                                                   iterations: 2))
    try run.run()
    let g = Generator(architecture: cfg.architecture, batch: 4, threads: 2)
    try g.parameters.load(from: try SafeTensorsFile(path: dir + "/e/generator.safetensors"))
    var z = [Float](repeating: 0, count: 4 * 16)
    for i in 0..<4 { z.withUnsafeMutableBufferPointer { latent(seed: 3, index: i, into: $0.baseAddress! + i * 16, nz: 16) } }
    g.input.update(from: z, count: z.count)
    let y: [Int32] = [2, 0, 1, 2]
    g.labels.update(from: y, count: 4)
    g.forward(mode: .eval)
    let want = Array(UnsafeBufferPointer(start: g.output, count: g.outputCount))
    let r = try GeneratorRuntime(path: dir + "/e/generator.safetensors", maxBatch: 4, threads: 2)
    XCTAssertEqual(r.classNames, ["left", "middle", "right"])
    let got = generateImages(r, z, labels: y, count: 4, batch: 4).images
    XCTAssertLessThanOrEqual(maxAbs(got, want), 1e-5)
  }

  func testSAGANStepAllocatesNothingAfterTheFirst() throws {
    var cfg = try configuration()
    cfg.criticSteps = 1
    let trainer = GANTrainer(configuration: cfg)
    trainer.initializeWeights()
    var rng = Philox4x32(seed: 1)
    rng.fillNormal(UnsafeMutableBufferPointer(start: trainer.realBatch, count: 8 * 32 * 32))
    rng.fillNormal(UnsafeMutableBufferPointer(start: trainer.generator.input, count: 8 * 16))
    for i in 0..<8 { trainer.labels[i] = Int32(i % 3) }
    trainer.step()
    let n = heapAllocations { for _ in 0..<4 { trainer.step() } }
    XCTAssertEqual(n, 0, "heap allocations during 4 SAGAN training steps")
  }
}
