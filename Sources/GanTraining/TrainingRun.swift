import Foundation
import GanData
import GanImage
import GanKernels
import GanModel

/// What `gan-train` asks for, beyond the hyperparameters.
public struct RunOptions {
  public var outf: String = "."
  /// Total iterations to reach (counting those before a resume); nil: `epochs` epochs.
  public var iterations: Int?
  public var epochs: Int = 25
  public var sampleEvery: Int = 500
  public var checkpointEvery: Int = 500
  public var resume: Bool = false
  public var initFrom: String?
  /// Training latents (N x nz), batch-size rows per iteration in order; or `noiseFile`, a float32
  /// .npy of shape (N, nz) or (N, nz, 1, 1) read when the run is made.
  public var noise: [Float]?
  public var noiseFile: String?
  /// Batches of the BN re-estimation pass before `generator.safetensors` is written.
  public var reestimationBatches: Int = 50
  /// SWD (ProGAN) of `swdImages` generated images against as many held-out real ones, every this
  /// many iterations (0: never). The held-out images are the dataset's last `swdImages`, left out
  /// of training; with fewer than 4 x swdImages images there is no held-out set and no SWD.
  public var swdEvery: Int = 500
  public var swdImages: Int = 512
  /// Every this many iterations (0: never), a generator like generator.safetensors (BN statistics
  /// re-estimated) in <outf>/snapshots/generator_iter_NNNNNNN.safetensors, for evaluating a run
  /// along the way; the training state (running statistics included) is left as it was.
  public var snapshotEvery: Int = 0
  /// Notices (resume, SWD, files written); the default prints and flushes.
  public var log: (String) -> Void = { print($0); fflush(stdout) }
  /// The status line after every iteration; nil: through `log` at iterations 1, every 50th and the
  /// last (gan-train redraws it in place on a terminal).
  public var progress: ((RunProgress) -> Void)?
  /// Asked after every iteration: true writes the checkpoint and ends the run (gan-train answers
  /// from its SIGINT/SIGTERM handler).
  public var shouldStop: () -> Bool = { false }
  public init() {}
}

/// The status after one iteration: "[epoch/epochs][batch/batches] it N/target Loss_D ... ETA".
public struct RunProgress {
  public var iteration: Int
  public var target: Int
  public var text: String
}

/// A whole training run: data order, the loop, progress, log.csv, sample grids, report.html,
/// checkpoints and the exported generator.
public final class TrainingRun {
  public let trainer: GANTrainer
  public let dataset: Dataset
  public let options: RunOptions
  public let randomness: RunRandomness
  let sampler: Generator
  let fixedNoiseCount = 64
  let log: TrainingLog
  /// Training latents from `options.noise` or `options.noiseFile`.
  let noise: [Float]?
  var history: [(iteration: Int, stats: StepStatistics)] = []
  /// SWD x 1e3 per pyramid level and their mean, by iteration.
  var swdHistory: [(iteration: Int, levels: [Double], mean: Double)] = []
  /// Images trained on: the dataset minus the SWD hold-out.
  public let trainCount: Int
  let swdReference: SlicedWasserstein.Reference?
  /// True when the last `run()` ended because `options.shouldStop` said so (after the checkpoint).
  public private(set) var stoppedBySignal = false
  var grids: [(label: String, file: String)] = []
  let startTime = Date()
  /// Seconds spent in training steps (batch assembly, latents, the step) since iteration 0, across
  /// resumes: the run's cost without sampling, SWD, checkpoints and snapshots (log.csv train_seconds).
  var trainSeconds = 0.0

  public var checkpointPath: String { options.outf + "/checkpoint.safetensors" }
  public var generatorPath: String { options.outf + "/generator.safetensors" }
  public func snapshotPath(iteration: Int) -> String {
    options.outf + "/snapshots/generator_iter_\(zeroPadded(iteration, 7)).safetensors"
  }
  public var iterationsPerEpoch: Int { trainCount / trainer.configuration.batchSize }
  /// The iteration the run ends at: `options.iterations`, or `options.epochs` epochs.
  public var targetIteration: Int { options.iterations ?? options.epochs * iterationsPerEpoch }

  /// The seed stored in <outf>/checkpoint.safetensors (a resumed run's latents and data order
  /// follow it).
  public static func checkpointSeed(outf: String) throws -> UInt64 {
    let f = try SafeTensorsFile(path: outf + "/checkpoint.safetensors")
    return UInt64(bitPattern: try f.integers("state.seed").first ?? 0)
  }

  public init(configuration: TrainingConfiguration, dataset: Dataset, options: RunOptions) throws {
    let a = configuration.architecture
    // The latents file first: its error names a file the user gave.
    if let path = options.noiseFile {
      let (values, _, fileNZ) = try NPY.readLatents(path: path)
      try NPY.checkLatentWidth(fileNZ, expected: a.nz, path: path)
      noise = values
    } else {
      noise = options.noise
    }
    guard dataset.size == a.imageSize, dataset.channels == a.nc else {
      throw DataError("dataset is \(dataset.size)x\(dataset.size)x\(dataset.channels), the model expects " +
                      "\(a.imageSize)x\(a.imageSize)x\(a.nc)")
    }
    guard dataset.count >= configuration.batchSize else {
      throw DataError("dataset has \(dataset.count) images, fewer than one batch of \(configuration.batchSize)")
    }
    trainer = GANTrainer(configuration: configuration)
    self.dataset = dataset
    self.options = options
    log = TrainingLog(path: options.outf + "/log.csv")
    randomness = RunRandomness(seed: configuration.seed)
    sampler = Generator(architecture: a, batch: fixedNoiseCount, threads: configuration.threads,
                        parameters: trainer.generator.parameters)
    randomness.fixedNoise(into: sampler.input, count: fixedNoiseCount * a.nz)
    let holdOut = options.swdEvery > 0 && options.swdImages > 0 && dataset.count >= 4 * options.swdImages
      && dataset.count - options.swdImages >= configuration.batchSize
    trainCount = dataset.count - (holdOut ? options.swdImages : 0)
    if holdOut {
      let n = options.swdImages
      let floats = UnsafeMutablePointer<Float>.allocate(capacity: n * dataset.imageBytes)
      let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: n * dataset.imageBytes)
      defer { floats.deallocate(); bytes.deallocate() }
      dataset.fillBatch(trainCount..<dataset.count, into: floats)
      PixelConvert.toUInt8(count: n * dataset.imageBytes, src: floats, dst: bytes)
      let ref = SlicedWasserstein.Reference(images: bytes, count: n, size: a.imageSize, channels: a.nc,
                                            seed: configuration.seed)
      ref.threads = configuration.threads
      swdReference = ref
    } else {
      swdReference = nil
      if options.swdEvery > 0 {
        options.log("SWD off: \(dataset.count) images, fewer than 4 x --swd-images \(options.swdImages) for a " +
                    "held-out set")
      }
    }
    try FileManager.default.createDirectory(atPath: options.outf, withIntermediateDirectories: true)
  }

  /// Which training layers run as Winograd convolutions: "winograd: G forward, layers 1 direct, ...".
  public var winogradSummary: String {
    func describe(_ tiles: [Int], _ layers: Range<Int>) -> String {
      layers.map { i in "\(i) " + (tiles[i] == 0 ? "direct" : "F(\(tiles[i])x\(tiles[i]),2x2)") }.joined(separator: ", ")
    }
    let L = trainer.configuration.architecture.layerCount
    return "winograd: G forward, layers " + describe(trainer.generator.forwardTiles, 1..<(L - 1))
      + "; D forward, layers " + describe(trainer.discriminator.forwardTiles, 0..<(L - 1))
      + "; D backward-data, layers " + describe(trainer.discriminator.backwardDataTiles, 0..<(L - 1))
  }

  /// SWD of `swdImages` images from fixed latents (batch statistics, as the sample grids) against
  /// the held-out real set.
  func measureSWD() -> (levels: [Double], mean: Double)? {
    guard let ref = swdReference else { return nil }
    let a = trainer.configuration.architecture
    let per = a.imageSize * a.imageSize * a.nc
    let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: ref.count * per)
    defer { bytes.deallocate() }
    var done = 0
    while done < ref.count {
      randomness.swdNoise(batch: done / fixedNoiseCount, into: sampler.input, count: fixedNoiseCount * a.nz)
      sampler.forward(mode: .batchStatistics)
      let n = min(fixedNoiseCount, ref.count - done)
      PixelConvert.toUInt8(count: n * per, src: sampler.output, dst: bytes + done * per)
      done += n
    }
    randomness.fixedNoise(into: sampler.input, count: fixedNoiseCount * a.nz)
    return ref.distance(to: bytes)
  }

  /// Trains until the target iteration, or until `options.shouldStop` asks. Returns the final
  /// iteration.
  @discardableResult
  public func run() throws -> Int {
    var epochOrder = try begin()
    let target = targetIteration
    try checkNoiseLength(target: target)
    var throughput = ThroughputWindow()
    var lastCheckpoint = trainer.iteration
    while trainer.iteration < target {
      let epoch = trainer.iteration / iterationsPerEpoch, position = trainer.iteration % iterationsPerEpoch
      if position == 0 || epochOrder.isEmpty { epochOrder = order(epoch: epoch) }
      let (stats, stepSeconds) = try trainOneBatch(epochOrder, position: position)
      let imagesPerSecond = throughput.record(images: trainer.configuration.batchSize, stepSeconds: stepSeconds)
      let swd = try measureSWDIfDue(target: target)
      record(stats, epoch: epoch, position: position, target: target, imagesPerSecond: imagesPerSecond, swd: swd)
      try writeFilesIfDue(epoch: epoch, endOfEpoch: position + 1 == iterationsPerEpoch, target: target)
      let stop = options.shouldStop()
      if trainer.iteration - lastCheckpoint >= options.checkpointEvery || trainer.iteration == target || stop {
        let it = trainer.iteration
        try writeCheckpoint(epochOrder: it % iterationsPerEpoch == 0 ? order(epoch: it / iterationsPerEpoch) : epochOrder)
        lastCheckpoint = it
      }
      if stop {
        options.log("stopped by signal at iteration \(trainer.iteration); checkpoint written to \(checkpointPath)")
        stoppedBySignal = true
        return trainer.iteration
      }
    }
    try exportGenerator()
    return trainer.iteration
  }

  // MARK: - The run's steps

  /// A resumed run: the checkpoint's state, its data order checked, log.csv and the history cut
  /// back to its iteration. A new one: initial (or --init) weights, a fresh log, the real grid.
  /// Returns the current epoch's data order (empty: to be drawn).
  func begin() throws -> [Int] {
    guard options.resume else {
      trainer.initializeWeights()
      if let i = options.initFrom {
        try trainer.loadWeights(from: SafeTensorsFile(path: i))
        options.log("initial G and D weights from \(i)")
      }
      try log.create()
      try writeRealSamples()
      return []
    }
    guard FileManager.default.fileExists(atPath: checkpointPath) else {
      throw TrainingError.invalidCheckpoint("\(checkpointPath): no checkpoint to resume from")
    }
    let stored = try trainer.restore(from: SafeTensorsFile(path: checkpointPath))
    let epochOrder = order(epoch: trainer.iteration / iterationsPerEpoch)
    if !stored.isEmpty && stored != epochOrder {
      throw TrainingError.invalidCheckpoint("\(checkpointPath): the data order differs (dataset, seed or SWD " +
                                            "hold-out changed since the checkpoint)")
    }
    for row in try log.restore(upTo: trainer.iteration) {
      history.append((row.iteration, row.stats))
      // The mean only: per-level values are in the log lines, not the CSV.
      if let w = row.swd { swdHistory.append((row.iteration, [], w)) }
      trainSeconds = row.trainSeconds
    }
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: options.outf)) ?? [])
      .filter { $0.hasPrefix("fake_samples_") && $0.hasSuffix(".png") }.sorted()
    grids = files.map { ($0, $0) }
    options.log("resumed from \(checkpointPath) at iteration \(trainer.iteration)")
    return epochOrder
  }

  func order(epoch: Int) -> [Int] {
    randomness.order(epoch: epoch, count: trainCount, shuffle: trainer.configuration.shuffle)
  }

  func checkNoiseLength(target: Int) throws {
    let c = trainer.configuration
    if let n = noise, n.count < target * c.batchSize * c.architecture.nz {
      throw DataError("--noise holds \(n.count / c.architecture.nz) latents; \(target) iterations of batch " +
                      "\(c.batchSize) need \(target * c.batchSize)")
    }
  }

  /// The batch at `position` of the epoch's order, its latents, one training step. Returns the
  /// step's statistics and its seconds (the step alone); trainSeconds gains batch assembly too.
  func trainOneBatch(_ epochOrder: [Int], position: Int) throws -> (StepStatistics, Double) {
    let c = trainer.configuration, it = trainer.iteration, B = c.batchSize
    let stepStart = Date()
    dataset.fillBatch(epochOrder[(position * B)..<((position + 1) * B)], into: trainer.realBatch)
    let zCount = B * c.architecture.nz
    if let n = noise {
      n.withUnsafeBufferPointer { trainer.generator.input.update(from: $0.baseAddress! + it * zCount, count: zCount) }
    } else {
      randomness.noise(iteration: it, into: trainer.generator.input, count: zCount)
    }
    let t0 = Date()
    let s = trainer.step()
    let seconds = Date().timeIntervalSince(t0)
    trainSeconds += Date().timeIntervalSince(stepStart)
    guard s.isFinite else { throw TrainingError.nonFiniteLoss(iteration: it + 1, s) }
    return (s, seconds)
  }

  func measureSWDIfDue(target: Int) throws -> Double? {
    let it = trainer.iteration
    guard options.swdEvery > 0 && (it % options.swdEvery == 0 || it == target), let d = measureSWD() else { return nil }
    swdHistory.append((it, d.levels, d.mean))
    let levels = d.levels.map { formatFixed($0, 1) }.joined(separator: " / ")
    options.log("SWD x1e3 at iteration \(it) against \(options.swdImages) held-out images: \(levels) "
      + "(levels \(trainer.configuration.architecture.imageSize) px down), mean \(formatFixed(d.mean, 1))")
    return d.mean
  }

  /// History, the log.csv row and the status line of the iteration just trained.
  func record(_ s: StepStatistics, epoch: Int, position: Int, target: Int, imagesPerSecond: Double, swd: Double?) {
    let it = trainer.iteration
    history.append((it, s))
    log.append(TrainingLogRow(iteration: it, epoch: epoch, stats: s, seconds: Date().timeIntervalSince(startTime),
                              imagesPerSecond: imagesPerSecond, swd: swd, trainSeconds: trainSeconds))
    let remaining = Double(target - it) * Double(trainer.configuration.batchSize) / max(imagesPerSecond, 1e-9)
    let epochs = max(1, (target + iterationsPerEpoch - 1) / iterationsPerEpoch)
    let text = "[\(epoch)/\(epochs)][\(position + 1)/\(iterationsPerEpoch)] it \(it)/\(target) "
      + "Loss_D: \(formatFixed(s.lossD, 4)) Loss_G: \(formatFixed(s.lossG, 4)) D(x): \(formatFixed(s.dx, 4)) "
      + "D(G(z)): \(formatFixed(s.dgz1, 4)) / \(formatFixed(s.dgz2, 4)) \(formatFixed(imagesPerSecond, 1)) img/s "
      + "ETA \(formatDuration(remaining))"
    if let progress = options.progress {
      progress(RunProgress(iteration: it, target: target, text: text))
    } else if it % 50 == 0 || it == target || it == 1 {
      options.log(text)
    }
  }

  /// The sample grid and report (every sampleEvery, at epoch ends, at the end) and the snapshot.
  func writeFilesIfDue(epoch: Int, endOfEpoch: Bool, target: Int) throws {
    let it = trainer.iteration
    if it % options.sampleEvery == 0 || endOfEpoch || it == target {
      try writeSamples(epoch: epoch, endOfEpoch: endOfEpoch)
    }
    if options.snapshotEvery > 0 && (it % options.snapshotEvery == 0 || it == target) {
      try writeGenerator(to: snapshotPath(iteration: it), keepRunningStatistics: true)
    }
  }

  // MARK: - Files

  func writeRealSamples() throws {
    let a = trainer.configuration.architecture
    let n = min(64, dataset.count)
    let buf = UnsafeMutablePointer<Float>.allocate(capacity: n * dataset.imageBytes)
    defer { buf.deallocate() }
    dataset.fillBatch(0..<n, into: buf)
    try Image.grid(nhwc: buf, count: n, size: a.imageSize, channels: a.nc,
                   columns: 8).writePNG(path: options.outf + "/real_samples.png")
  }

  func writeSamples(epoch: Int, endOfEpoch: Bool) throws {
    let a = trainer.configuration.architecture
    sampler.forward(mode: .batchStatistics)
    let grid = Image.grid(nhwc: sampler.output, count: fixedNoiseCount, size: a.imageSize, channels: a.nc, columns: 8)
    let name = endOfEpoch ? "fake_samples_epoch_\(zeroPadded(epoch, 3)).png" : "fake_samples_iter_\(zeroPadded(trainer.iteration, 7)).png"
    try grid.writePNG(path: options.outf + "/" + name)
    grids.append(("iteration \(trainer.iteration)", name))
    try Report.write(path: options.outf + "/report.html", history: history.map { ($0.iteration, $0.stats) },
                     grids: grids,
                     directory: options.outf, title: "swift-gan: \(a.description)", realSamples: "real_samples.png",
                     swd: swdHistory.map { ($0.iteration, $0.mean) })
  }

  func writeCheckpoint(epochOrder: [Int]) throws {
    let c = trainer.configuration
    // The seed as a string: a UInt64 does not fit a JSON number (a double) exactly.
    let meta = [("gan.train", JSON.object([
      ("lr", .number(Double(c.learningRate))), ("beta1", .number(Double(c.beta1))),
      ("batch_size", .number(Double(c.batchSize))), ("shuffle", .bool(c.shuffle)), ("seed", .string(String(c.seed))),
    ]).serialized)]
    try trainer.checkpoint(extraMetadata: meta, epochOrder: epochOrder,
                           epoch: trainer.iteration / iterationsPerEpoch).write(to: checkpointPath)
  }

  /// generator.safetensors: fp32, PyTorch names, BN population statistics re-estimated over
  /// `reestimationBatches` x 64 latents; logs how far eval-mode output moved from batch statistics.
  public func exportGenerator() throws {
    try writeGenerator(to: generatorPath, keepRunningStatistics: false)
  }

  /// keepRunningStatistics: restore the training-time running statistics afterwards (snapshots
  /// mid-run, so that checkpoints and resumes do not depend on --snapshot-every).
  func writeGenerator(to path: String, keepRunningStatistics: Bool) throws {
    let a = trainer.configuration.architecture
    let params = sampler.parameters
    let saved = keepRunningStatistics ? Array(UnsafeBufferPointer(start: params.buffers,
                                                                  count: params.spec.bufferCount)) : []
    defer { if keepRunningStatistics { saved.withUnsafeBufferPointer { params.buffers.update(from: $0.baseAddress!,
        count: $0.count) } } }
    let n = fixedNoiseCount * a.imageSize * a.imageSize * a.nc
    sampler.forward(mode: .batchStatistics)
    let batchOutput = Array(UnsafeBufferPointer(start: sampler.output, count: n))
    let fixed = Array(UnsafeBufferPointer(start: sampler.input, count: fixedNoiseCount * a.nz))
    sampler.reestimateBatchNormStatistics(passes: options.reestimationBatches) { p, pass in
      randomness.reestimationNoise(pass: pass, into: p, count: fixedNoiseCount * a.nz)
    }
    fixed.withUnsafeBufferPointer { sampler.input.update(from: $0.baseAddress!, count: $0.count) }
    sampler.forward(mode: .eval)
    var maxDiff: Float = 0, mse = 0.0
    for i in 0..<n {
      let d = sampler.output[i] - batchOutput[i]
      maxDiff = max(maxDiff, abs(d))
      mse += Double(d * d)
    }
    mse /= Double(n)
    let psnr = mse > 0 ? 10 * log10(4.0 / mse) : .infinity
    var w = SafeTensorsWriter()
    w.metadata = [("gan.format", "swift-gan-generator-1"), ("gan.arch", a.json),
                  ("gan.bn_reestimation", JSON.object([
                    ("batches", .number(Double(options.reestimationBatches))), ("batch_size",
                        .number(Double(fixedNoiseCount))),
                    ("eval_vs_batch_max_abs", .finite(Double(maxDiff))), ("eval_vs_batch_psnr_db", .finite(psnr,
                        digits: 2)),
                  ]).serialized)]
    trainer.generator.parameters.save(into: &w)
    if keepRunningStatistics {
      try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                              withIntermediateDirectories: true)
    }
    try w.write(to: path)
    options.log("wrote \(path) (BN statistics re-estimated over \(options.reestimationBatches) x \(fixedNoiseCount) " +
                "latents; eval vs batch-statistics output on the fixed noise: max |diff| " +
                "\(formatFixed(Double(maxDiff), 4)), PSNR \(formatFixed(psnr, 1)) dB)")
  }

}

/// Images per second over a window of at least two seconds of steps (the first step alone at
/// first), so that the status line does not flicker with every step's noise.
struct ThroughputWindow {
  private var start = Date(), iterations = 0, images = 0, rate = 0.0, measured = false

  mutating func record(images batch: Int, stepSeconds: Double) -> Double {
    iterations += 1
    images += batch
    let elapsed = Date().timeIntervalSince(start)
    if elapsed > 2 || !measured {
      rate = Double(images) / max(elapsed, stepSeconds)
      start = Date(); iterations = 0; images = 0; measured = true
    }
    return rate
  }
}

/// "42s", "3m07s", "2h05m"; "?" for a non-finite or negative duration.
func formatDuration(_ s: Double) -> String {
  guard s.isFinite, s >= 0, s < 1e12 else { return "?" }
  let t = Int(s.rounded())
  return t >= 3600 ? "\(t / 3600)h\(zeroPadded(t / 60 % 60, 2))m" : (t >= 60 ? "\(t / 60)m\(zeroPadded(t % 60, 2))s" : "\(t)s")
}
