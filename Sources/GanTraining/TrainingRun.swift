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
  /// WGAN-GP's mixing weights (batch-size values per D step, in order) instead of the seed's
  /// stream; or `mixingFile`, a float32 .npy of them (tests, comparisons with PyTorch).
  public var mixing: [Float]?
  public var mixingFile: String?
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
  /// Whenever the in-loop SWD improves on the best so far, <outf>/generator_best.safetensors (the
  /// generator as at the end, BN statistics re-estimated); the training state is left as it was.
  public var keepBest: Bool = false
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
  /// The images' classes (conditional models), in the dataset's order.
  public let labels: DatasetLabels?
  public let options: RunOptions
  public let randomness: RunRandomness
  let sampler: Generator
  let fixedNoiseCount = 64
  let log: TrainingLog
  /// Training latents from `options.noise` or `options.noiseFile`.
  let noise: [Float]?
  /// WGAN-GP's mixing weights from `options.mixing` or `options.mixingFile`.
  let mixing: [Float]?
  var history: [(iteration: Int, stats: StepStatistics)] = []
  /// SWD x 1e3 per pyramid level and their mean, by iteration.
  var swdHistory: [(iteration: Int, levels: [Double], mean: Double)] = []
  /// Rank 0 of a data-parallel run, or the one process: the rank that writes files.
  public var isWriter: Bool { trainer.communicator.isWriter }
  /// The iteration this process started from (0, or the checkpoint's when resuming).
  public private(set) var firstIteration = 0
  /// The whole batch's latents (and WGAN-GP mixing weights), of which this rank takes its share.
  var noiseScratch: [Float]
  var mixingScratch: [Float]
  /// Images trained on: the dataset minus the SWD hold-out.
  public let trainCount: Int
  let swdReference: SlicedWasserstein.Reference?
  /// True when the last `run()` ended because `options.shouldStop` said so (after the checkpoint).
  public private(set) var stoppedBySignal = false
  var grids: [(label: String, file: String)] = []
  /// The best in-loop SWD so far (--keep-best) and its iteration.
  var bestSWD: (iteration: Int, mean: Double)?
  let startTime = Date()
  /// Seconds spent in training steps (batch assembly, latents, the step) since iteration 0, across
  /// resumes: the run's cost without sampling, SWD, checkpoints and snapshots (log.csv train_seconds).
  var trainSeconds = 0.0

  public var checkpointPath: String { options.outf + "/checkpoint.safetensors" }
  public var generatorPath: String { options.outf + "/generator.safetensors" }
  public var bestGeneratorPath: String { options.outf + "/generator_best.safetensors" }
  public func snapshotPath(iteration: Int) -> String {
    options.outf + "/snapshots/generator_iter_\(zeroPadded(iteration, 7)).safetensors"
  }
  /// Batches in an epoch; an iteration takes `criticSteps` of them (one per D step).
  public var batchesPerEpoch: Int { trainCount / trainer.configuration.batchSize }
  public var iterationsPerEpoch: Int { max(1, batchesPerEpoch / trainer.configuration.criticSteps) }
  /// The iteration the run ends at: `options.iterations`, or `options.epochs` epochs.
  public var targetIteration: Int { options.iterations ?? options.epochs * iterationsPerEpoch }
  /// The epoch of the batch with this index (iteration * criticSteps + D step).
  func epoch(ofBatch b: Int) -> Int { b / batchesPerEpoch }

  /// The seed stored in <outf>/checkpoint.safetensors (a resumed run's latents and data order
  /// follow it).
  public static func checkpointSeed(outf: String) throws -> UInt64 {
    let f = try SafeTensorsFile(path: outf + "/checkpoint.safetensors")
    return UInt64(bitPattern: try f.integers("state.seed").first ?? 0)
  }

  /// labels: one class per dataset image, required for (and only for) conditional models.
  /// communicator: the ranks of a data-parallel run; each trains its share of every batch (the
  /// same images and latents the one-process run gives those samples), and rank 0 alone writes
  /// files (log, grids, SWD, checkpoints, the generator).
  public init(configuration: TrainingConfiguration, dataset: Dataset, labels: DatasetLabels? = nil,
              options: RunOptions, communicator: Communicator = .single) throws {
    let a = configuration.architecture
    if a.isConditional {
      guard let l = labels else { throw DataError("a conditional model needs class labels (--labels or class folders)") }
      guard l.classCount == a.classes, l.labels.count == dataset.count else {
        throw DataError("\(l.classCount) classes and \(l.labels.count) labels for a model of \(a.classes) classes " +
                        "and \(dataset.count) images")
      }
    }
    self.labels = a.isConditional ? labels : nil
    // The latents file first: its error names a file the user gave.
    if let path = options.noiseFile {
      let (values, _, fileNZ) = try NPY.readLatents(path: path)
      try NPY.checkLatentWidth(fileNZ, expected: a.nz, path: path)
      noise = values
    } else {
      noise = options.noise
    }
    if let path = options.mixingFile {
      let (values, shape) = try NPY.readFloat32(path: path)
      guard shape.count == 1 || (shape.count == 2 && shape[1] == configuration.batchSize) else {
        throw DataError("\(path): mixing weights of shape \(shape); expected (N) or (N, batch size)")
      }
      mixing = values
    } else {
      mixing = options.mixing
    }
    if let m = mixing, let bad = m.first(where: { !($0 >= 0 && $0 <= 1) }) {
      throw DataError("mixing weights must lie in [0, 1], found \(bad)")
    }
    guard dataset.size == a.imageSize, dataset.channels == a.nc else {
      throw DataError("dataset is \(dataset.size)x\(dataset.size)x\(dataset.channels), the model expects " +
                      "\(a.imageSize)x\(a.imageSize)x\(a.nc)")
    }
    guard dataset.count >= configuration.batchSize * configuration.criticSteps else {
      throw DataError("dataset has \(dataset.count) images, fewer than \(configuration.criticSteps) batch(es) of " +
                      "\(configuration.batchSize) (one per D step)")
    }
    guard configuration.batchSize % communicator.size == 0 else {
      throw DataError("--batch-size \(configuration.batchSize) is not a multiple of the \(communicator.size) ranks")
    }
    trainer = GANTrainer(configuration: configuration, communicator: communicator)
    noiseScratch = [Float](repeating: 0, count: configuration.batchSize * a.nz)
    mixingScratch = [Float](repeating: 0, count: configuration.batchSize)
    self.dataset = dataset
    self.options = options
    log = TrainingLog(path: options.outf + "/log.csv")
    randomness = RunRandomness(seed: configuration.seed)
    sampler = Generator(architecture: a, batch: fixedNoiseCount, threads: configuration.threads,
                        parameters: trainer.generator.parameters)
    randomness.fixedNoise(into: sampler.input, count: fixedNoiseCount * a.nz)
    let holdOut = options.swdEvery > 0 && options.swdImages > 0 && dataset.count >= 4 * options.swdImages
      && dataset.count - options.swdImages >= configuration.batchSize * configuration.criticSteps
    trainCount = dataset.count - (holdOut ? options.swdImages : 0)
    if holdOut && communicator.isWriter {
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
      if options.swdEvery > 0 && !holdOut {
        options.log("SWD off: \(dataset.count) images, fewer than 4 x --swd-images \(options.swdImages) for a " +
                    "held-out set")
      }
    }
    if communicator.isWriter {
      try FileManager.default.createDirectory(atPath: options.outf, withIntermediateDirectories: true)
    }
    fillFixedLabels()
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
      // Conditional: every class equally often (image i of the set has class i mod classes).
      for j in 0..<fixedNoiseCount where a.isConditional { sampler.labels[j] = Int32((done + j) % a.classes) }
      sampler.forward(mode: .batchStatistics)
      let n = min(fixedNoiseCount, ref.count - done)
      PixelConvert.toUInt8(count: n * per, src: sampler.output, dst: bytes + done * per)
      done += n
    }
    randomness.fixedNoise(into: sampler.input, count: fixedNoiseCount * a.nz)
    fillFixedLabels()
    return ref.distance(to: bytes)
  }

  /// The sample grids' classes: one class per row of 8 (class (i / 8) mod classes).
  func fillFixedLabels() {
    let a = trainer.configuration.architecture
    for j in 0..<fixedNoiseCount where a.isConditional { sampler.labels[j] = Int32((j / 8) % a.classes) }
  }

  /// Trains until the target iteration, or until `options.shouldStop` asks. Returns the final
  /// iteration.
  @discardableResult
  public func run() throws -> Int {
    var epochOrder = try begin()
    firstIteration = trainer.iteration
    let target = targetIteration
    try checkNoiseLength(target: target)
    var throughput = ThroughputWindow()
    var lastCheckpoint = trainer.iteration
    let steps = trainer.configuration.criticSteps
    var orderEpoch = epochOrder.isEmpty ? -1 : epoch(ofBatch: trainer.iteration * steps)
    while trainer.iteration < target {
      let first = trainer.iteration * steps
      let (stats, stepSeconds) = try trainOneIteration { b in
        if epoch(ofBatch: b) != orderEpoch { orderEpoch = epoch(ofBatch: b); epochOrder = order(epoch: orderEpoch) }
        return epochOrder
      }
      let last = first + steps - 1
      let imagesPerSecond = throughput.record(images: trainer.configuration.batchSize * steps, stepSeconds: stepSeconds)
      let swd = try measureSWDIfDue(target: target)
      record(stats, epoch: epoch(ofBatch: last), position: last % batchesPerEpoch, target: target,
             imagesPerSecond: imagesPerSecond, swd: swd)
      // An epoch ended inside this iteration: its grid is named for it.
      let ended = epoch(ofBatch: last + 1) != epoch(ofBatch: first)
      try writeFilesIfDue(epoch: epoch(ofBatch: last + 1) - 1, endOfEpoch: ended, target: target)
      if let s = swd { try keepBestIfImproved(swd: s) }
      // Every rank stops at the same iteration when any was asked to.
      let stop = trainer.communicator.any(options.shouldStop())
      if trainer.iteration - lastCheckpoint >= options.checkpointEvery || trainer.iteration == target || stop {
        let it = trainer.iteration, next = epoch(ofBatch: it * steps)
        if isWriter { try writeCheckpoint(epochOrder: next == orderEpoch ? epochOrder : order(epoch: next)) }
        // The others wait (patiently) for the checkpoint before the next step's reductions.
        if trainer.communicator.size > 1 { trainer.communicator.barrier() }
        lastCheckpoint = it
      }
      if stop {
        options.log("stopped by signal at iteration \(trainer.iteration); checkpoint written to \(checkpointPath)")
        stoppedBySignal = true
        return trainer.iteration
      }
    }
    if isWriter { try exportGenerator() }
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
      if isWriter {
        try log.create()
        try writeRealSamples()
      }
      return []
    }
    guard FileManager.default.fileExists(atPath: checkpointPath) else {
      throw TrainingError.invalidCheckpoint("\(checkpointPath): no checkpoint to resume from")
    }
    let stored = try trainer.restore(from: SafeTensorsFile(path: checkpointPath))
    let epochOrder = order(epoch: epoch(ofBatch: trainer.iteration * trainer.configuration.criticSteps))
    if !stored.isEmpty && stored != epochOrder {
      throw TrainingError.invalidCheckpoint("\(checkpointPath): the data order differs (dataset, seed or SWD " +
                                            "hold-out changed since the checkpoint)")
    }
    for row in isWriter ? try log.restore(upTo: trainer.iteration) : [] {
      history.append((row.iteration, row.stats))
      // The mean only: per-level values are in the log lines, not the CSV.
      if let w = row.swd { swdHistory.append((row.iteration, [], w)) }
      trainSeconds = row.trainSeconds
    }
    // --keep-best continues from the best SWD the log holds.
    bestSWD = swdHistory.min { $0.mean < $1.mean }.map { ($0.iteration, $0.mean) }
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
    let c = trainer.configuration, needed = target * c.criticSteps * c.batchSize
    if let n = noise, n.count < needed * c.architecture.nz {
      throw DataError("--noise holds \(n.count / c.architecture.nz) latents; \(target) iterations of " +
                      "\(c.criticSteps) batch(es) of \(c.batchSize) need \(needed)")
    }
    if let m = mixing, c.loss == .wganGP, m.count < needed {
      throw DataError("--mixing holds \(m.count) weights; \(target) iterations of \(c.criticSteps) batch(es) of " +
                      "\(c.batchSize) need \(needed)")
    }
  }

  /// One iteration: for each D step k its batch (batch index b = iteration * criticSteps + k, at
  /// position b mod batchesPerEpoch of its epoch's order, from `orderOf(b)`), labels and latents
  /// (stream b), then the step. Returns the step's statistics and its seconds (the step alone);
  /// trainSeconds gains batch assembly too.
  func trainOneIteration(orderOf: (Int) -> [Int]) throws -> (StepStatistics, Double) {
    let c = trainer.configuration, it = trainer.iteration, B = c.batchSize
    let rank = trainer.communicator.rank, local = trainer.localBatch
    let stepStart = Date()
    let zCount = B * c.architecture.nz
    var fillSeconds = 0.0
    let s = trainer.step { k in
      let t0 = Date()
      let b = it * c.criticSteps + k
      let indices = orderOf(b)[((b % batchesPerEpoch) * B)..<((b % batchesPerEpoch + 1) * B)]
      // This rank's share of the batch: images rank * local ..< (rank + 1) * local, and their latents.
      let mine = indices.dropFirst(rank * local).prefix(local)
      dataset.fillBatch(mine, into: trainer.realBatch)
      if let l = labels { for (j, i) in mine.enumerated() { trainer.labels[j] = l.labels[i] } }
      let zLocal = local * c.architecture.nz, zFirst = rank * zLocal
      if let n = noise {
        n.withUnsafeBufferPointer {
          trainer.generator.input.update(from: $0.baseAddress! + b * zCount + zFirst, count: zLocal)
        }
      } else {
        noiseScratch.withUnsafeMutableBufferPointer { z in
          randomness.noise(iteration: b, into: z.baseAddress!, count: zCount)
          trainer.generator.input.update(from: z.baseAddress! + zFirst, count: zLocal)
        }
      }
      if c.loss == .wganGP {
        if let m = mixing {
          m.withUnsafeBufferPointer { trainer.mixingWeights.update(from: $0.baseAddress! + b * B + rank * local, count: local) }
        } else {
          mixingScratch.withUnsafeMutableBufferPointer { a in
            randomness.mixingWeights(batch: b, into: a.baseAddress!, count: B)
            trainer.mixingWeights.update(from: a.baseAddress! + rank * local, count: local)
          }
        }
      }
      fillSeconds += Date().timeIntervalSince(t0)
    }
    let seconds = Date().timeIntervalSince(stepStart) - fillSeconds
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
    guard isWriter else { return }
    let it = trainer.iteration
    history.append((it, s))
    log.append(TrainingLogRow(iteration: it, epoch: epoch, stats: s, seconds: Date().timeIntervalSince(startTime),
                              imagesPerSecond: imagesPerSecond, swd: swd, trainSeconds: trainSeconds))
    let remaining = Double(target - it) * Double(trainer.configuration.batchSize) / max(imagesPerSecond, 1e-9)
    let epochs = max(1, (target + iterationsPerEpoch - 1) / iterationsPerEpoch)
    let text = "[\(epoch)/\(epochs)][\(position + 1)/\(batchesPerEpoch)] it \(it)/\(target) "
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
    guard isWriter else { return }
    let it = trainer.iteration
    if it % options.sampleEvery == 0 || endOfEpoch || it == target {
      try writeSamples(epoch: epoch, endOfEpoch: endOfEpoch)
    }
    if options.snapshotEvery > 0 && (it % options.snapshotEvery == 0 || it == target) {
      try writeGenerator(to: snapshotPath(iteration: it), keepRunningStatistics: true)
    }
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
