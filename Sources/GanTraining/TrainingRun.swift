import Foundation
import GanData
import GanImage
import GanKernels
import GanModel

/// Set by SIGINT/SIGTERM; the loop checkpoints and stops after the current iteration.
nonisolated(unsafe) var stopRequested: Int32 = 0

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
  /// Training latents from a file (N x nz), batch-size rows per iteration in order.
  public var noise: [Float]?
  /// Batches of the BN re-estimation pass before `generator.safetensors` is written.
  public var reestimationBatches: Int = 50
  public var installSignalHandlers: Bool = true
  /// SWD (ProGAN) of `swdImages` generated images against as many held-out real ones, every this
  /// many iterations (0: never). The held-out images are the dataset's last `swdImages`, left out
  /// of training; with fewer than 4 x swdImages images there is no held-out set and no SWD.
  public var swdEvery: Int = 500
  public var swdImages: Int = 512
  /// Every this many iterations (0: never), a generator like generator.safetensors (BN statistics
  /// re-estimated) in <outf>/snapshots/generator_iter_NNNNNNN.safetensors, for evaluating a run
  /// along the way; the training state (running statistics included) is left as it was.
  public var snapshotEvery: Int = 0
  /// Progress and notices; the default prints and flushes (stdout may be a pipe or a file).
  public var log: (String) -> Void = { print($0); fflush(stdout) }
  public init() {}
}

/// A whole training run: data order, the loop, progress, log.csv, sample grids, report.html,
/// checkpoints and the exported generator.
public final class TrainingRun {
  public let trainer: DCGANTrainer
  public let dataset: Dataset
  public let options: RunOptions
  public let randomness: RunRandomness
  let sampler: Generator
  let fixedNoiseCount = 64
  var history: [(iteration: Int, stats: StepStatistics)] = []
  /// SWD x 1e3 per pyramid level and their mean, by iteration.
  var swdHistory: [(iteration: Int, levels: [Double], mean: Double)] = []
  /// Images trained on: the dataset minus the SWD hold-out.
  public let trainCount: Int
  let swdReference: SlicedWasserstein.Reference?
  /// True when the last `run()` ended on SIGINT/SIGTERM (after writing the checkpoint).
  public private(set) var stoppedBySignal = false
  var grids: [(label: String, file: String)] = []
  let startTime = Date()
  /// Seconds spent in training steps (batch assembly, latents, the step) since iteration 0, across
  /// resumes: the run's cost without sampling, SWD, checkpoints and snapshots (log.csv train_seconds).
  var trainSeconds = 0.0

  public var checkpointPath: String { options.outf + "/checkpoint.safetensors" }
  public var generatorPath: String { options.outf + "/generator.safetensors" }
  public func snapshotPath(iteration: Int) -> String {
    options.outf + String(format: "/snapshots/generator_iter_%07d.safetensors", iteration)
  }
  public var iterationsPerEpoch: Int { trainCount / trainer.configuration.batchSize }

  public init(configuration: TrainingConfiguration, dataset: Dataset, options: RunOptions) throws {
    let a = configuration.architecture
    guard dataset.size == a.imageSize, dataset.channels == a.nc else {
      throw DataError("dataset is \(dataset.size)x\(dataset.size)x\(dataset.channels), the model expects \(a.imageSize)x\(a.imageSize)x\(a.nc)")
    }
    guard dataset.count >= configuration.batchSize else {
      throw DataError("dataset has \(dataset.count) images, fewer than one batch of \(configuration.batchSize)")
    }
    trainer = DCGANTrainer(configuration: configuration)
    self.dataset = dataset
    self.options = options
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
        options.log("SWD off: \(dataset.count) images, fewer than 4 x --swd-images \(options.swdImages) for a held-out set")
      }
    }
    try FileManager.default.createDirectory(atPath: options.outf, withIntermediateDirectories: true)
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

  /// Trains until the target iteration. Returns the final iteration.
  @discardableResult
  public func run() throws -> Int {
    let c = trainer.configuration
    let fm = FileManager.default
    var epochOrder: [Int] = []
    if options.resume {
      guard fm.fileExists(atPath: checkpointPath) else {
        throw TrainingError.invalidCheckpoint("\(checkpointPath): no checkpoint to resume from")
      }
      let stored = try trainer.restore(from: SafeTensorsFile(path: checkpointPath))
      let e = trainer.iteration / iterationsPerEpoch
      epochOrder = randomness.order(epoch: e, count: trainCount, shuffle: c.shuffle)
      if !stored.isEmpty && stored != epochOrder {
        throw TrainingError.invalidCheckpoint("\(checkpointPath): the data order differs (dataset, seed or SWD hold-out changed since the checkpoint)")
      }
      loadHistory()
      options.log("resumed from \(checkpointPath) at iteration \(trainer.iteration)")
    } else {
      trainer.initializeWeights()
      if let i = options.initFrom {
        try trainer.loadWeights(from: SafeTensorsFile(path: i))
        options.log("initial G and D weights from \(i)")
      }
      try writeLogHeader()
      try writeRealSamples()
    }
    let target = options.iterations ?? options.epochs * iterationsPerEpoch
    if let n = options.noise, n.count < target * c.batchSize * c.architecture.nz {
      throw DataError("--noise holds \(n.count / c.architecture.nz) latents; \(target) iterations of batch \(c.batchSize) need \(target * c.batchSize)")
    }
    if options.installSignalHandlers { installHandlers() }
    let tty = isatty(1) != 0
    var lastCheckpointIteration = trainer.iteration
    var windowStart = Date(), windowIterations = 0
    var imgPerSecond = 0.0
    let logHandle = FileHandle(forWritingAtPath: options.outf + "/log.csv")
    logHandle?.seekToEndOfFile()
    defer { logHandle?.closeFile() }
    while trainer.iteration < target {
      let it = trainer.iteration
      let epoch = it / iterationsPerEpoch, pos = it % iterationsPerEpoch
      if pos == 0 || epochOrder.isEmpty {
        epochOrder = randomness.order(epoch: epoch, count: trainCount, shuffle: c.shuffle)
      }
      let B = c.batchSize
      let stepStart = Date()
      dataset.fillBatch(epochOrder[(pos * B)..<((pos + 1) * B)], into: trainer.realBatch)
      let zCount = B * c.architecture.nz
      if let n = options.noise {
        n.withUnsafeBufferPointer { trainer.generator.input.update(from: $0.baseAddress! + it * zCount, count: zCount) }
      } else {
        randomness.noise(iteration: it, into: trainer.generator.input, count: zCount)
      }
      let t0 = Date()
      let s = trainer.step()
      let dt = Date().timeIntervalSince(t0)
      trainSeconds += Date().timeIntervalSince(stepStart)
      guard s.isFinite else {
        if tty { print("") }
        throw TrainingError.nonFiniteLoss(iteration: it + 1, s)
      }
      windowIterations += 1
      let elapsed = Date().timeIntervalSince(windowStart)
      if elapsed > 2 || windowIterations == 1 {
        imgPerSecond = Double(windowIterations * B) / max(elapsed, dt)
        windowStart = Date(); windowIterations = 0
      }
      history.append((trainer.iteration, s))
      var swdField = ""
      if options.swdEvery > 0 && (trainer.iteration % options.swdEvery == 0 || trainer.iteration == target), let d = measureSWD() {
        swdHistory.append((trainer.iteration, d.levels, d.mean))
        swdField = fmt(d.mean, 3)
        if tty { print("") }
        options.log("SWD x1e3 at iteration \(trainer.iteration) against \(options.swdImages) held-out images: \(d.levels.map { fmt($0, 1) }.joined(separator: " / ")) (levels \(c.architecture.imageSize) px down), mean \(fmt(d.mean, 1))")
      }
      let seconds = Date().timeIntervalSince(startTime)
      let line = "\(trainer.iteration),\(epoch),\(s.lossD),\(s.lossG),\(s.dx),\(s.dgz1),\(s.dgz2),\(fmt(seconds, 3)),\(fmt(imgPerSecond, 1)),\(swdField),\(fmt(trainSeconds, 3))\n"
      logHandle?.write(line.data(using: .utf8)!)
      let remaining = Double(target - trainer.iteration) * Double(B) / max(imgPerSecond, 1e-9)
      let status = "[\(epoch)/\(max(1, (target + iterationsPerEpoch - 1) / iterationsPerEpoch))][\(pos + 1)/\(iterationsPerEpoch)] it \(trainer.iteration)/\(target) Loss_D: \(fmt(s.lossD, 4)) Loss_G: \(fmt(s.lossG, 4)) D(x): \(fmt(s.dx, 4)) D(G(z)): \(fmt(s.dgz1, 4)) / \(fmt(s.dgz2, 4)) \(fmt(imgPerSecond, 1)) img/s ETA \(duration(remaining))"
      if tty {
        print("\r\u{1B}[K" + status, terminator: "")
        fflush(stdout)
      } else if trainer.iteration % 50 == 0 || trainer.iteration == target || trainer.iteration == 1 {
        options.log(status)
      }
      let endOfEpoch = pos + 1 == iterationsPerEpoch
      if trainer.iteration % options.sampleEvery == 0 || endOfEpoch || trainer.iteration == target {
        try writeSamples(epoch: epoch, endOfEpoch: endOfEpoch)
      }
      if options.snapshotEvery > 0 && (trainer.iteration % options.snapshotEvery == 0 || trainer.iteration == target) {
        try writeGenerator(to: snapshotPath(iteration: trainer.iteration), keepRunningStatistics: true)
      }
      if trainer.iteration - lastCheckpointIteration >= options.checkpointEvery || trainer.iteration == target || stopRequested != 0 {
        let order = (trainer.iteration % iterationsPerEpoch == 0) ? randomness.order(epoch: trainer.iteration / iterationsPerEpoch, count: trainCount, shuffle: c.shuffle) : epochOrder
        try writeCheckpoint(epochOrder: order)
        lastCheckpointIteration = trainer.iteration
      }
      if stopRequested != 0 {
        if tty { print("") }
        options.log("stopped by signal at iteration \(trainer.iteration); checkpoint written to \(checkpointPath)")
        stoppedBySignal = true
        return trainer.iteration
      }
    }
    if tty { print("") }
    try exportGenerator()
    return trainer.iteration
  }

  // MARK: - Files

  func writeLogHeader() throws {
    let header = "iteration,epoch,Loss_D,Loss_G,D_x,D_G_z1,D_G_z2,seconds,img_per_s,swd,train_seconds\n"
    try header.write(toFile: options.outf + "/log.csv", atomically: true, encoding: .utf8)
  }

  func loadHistory() {
    guard let text = try? String(contentsOfFile: options.outf + "/log.csv", encoding: .utf8) else { return }
    var kept = ["iteration,epoch,Loss_D,Loss_G,D_x,D_G_z1,D_G_z2,seconds,img_per_s,swd,train_seconds"]
    for line in text.split(separator: "\n").dropFirst() {
      let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      guard f.count >= 7, let it = Int(f[0]), it <= trainer.iteration,
            let ld = Double(f[2]), let lg = Double(f[3]), let dx = Double(f[4]), let d1 = Double(f[5]), let d2 = Double(f[6]) else { continue }
      history.append((it, StepStatistics(lossD: ld, lossG: lg, dx: dx, dgz1: d1, dgz2: d2)))
      // The mean only: per-level values are in the log lines, not the CSV.
      if f.count >= 10, let w = Double(f[9]) { swdHistory.append((it, [], w)) }
      if f.count >= 11, let t = Double(f[10]) { trainSeconds = t }
      kept.append(String(line))
    }
    // Rows past the checkpoint belong to iterations that will be redone.
    try? (kept.joined(separator: "\n") + "\n").write(toFile: options.outf + "/log.csv", atomically: true, encoding: .utf8)
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: options.outf)) ?? []).filter { $0.hasPrefix("fake_samples_") && $0.hasSuffix(".png") }.sorted()
    grids = files.map { ($0, $0) }
  }

  func writeRealSamples() throws {
    let a = trainer.configuration.architecture
    let n = min(64, dataset.count)
    let buf = UnsafeMutablePointer<Float>.allocate(capacity: n * dataset.imageBytes)
    defer { buf.deallocate() }
    dataset.fillBatch(0..<n, into: buf)
    try Image.grid(nhwc: buf, count: n, size: a.imageSize, channels: a.nc, columns: 8).writePNG(path: options.outf + "/real_samples.png")
  }

  func writeSamples(epoch: Int, endOfEpoch: Bool) throws {
    let a = trainer.configuration.architecture
    sampler.forward(mode: .batchStatistics)
    let grid = Image.grid(nhwc: sampler.output, count: fixedNoiseCount, size: a.imageSize, channels: a.nc, columns: 8)
    let name = endOfEpoch ? String(format: "fake_samples_epoch_%03d.png", epoch) : String(format: "fake_samples_iter_%07d.png", trainer.iteration)
    try grid.writePNG(path: options.outf + "/" + name)
    grids.append(("iteration \(trainer.iteration)", name))
    try Report.write(path: options.outf + "/report.html", history: history.map { ($0.iteration, $0.stats) }, grids: grids,
                     directory: options.outf, title: "swift-gan: \(a.description)", realSamples: "real_samples.png",
                     swd: swdHistory.map { ($0.iteration, $0.mean) })
  }

  func writeCheckpoint(epochOrder: [Int]) throws {
    let c = trainer.configuration
    let meta = [("gan.train", "{\"lr\":\(c.learningRate),\"beta1\":\(c.beta1),\"batch_size\":\(c.batchSize),\"shuffle\":\(c.shuffle),\"seed\":\(c.seed)}")]
    try trainer.checkpoint(extraMetadata: meta, epochOrder: epochOrder, epoch: trainer.iteration / iterationsPerEpoch).write(to: checkpointPath)
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
    let saved = keepRunningStatistics ? Array(UnsafeBufferPointer(start: params.buffers, count: params.spec.bufferCount)) : []
    defer { if keepRunningStatistics { saved.withUnsafeBufferPointer { params.buffers.update(from: $0.baseAddress!, count: $0.count) } } }
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
                  ("gan.bn_reestimation", "{\"batches\":\(options.reestimationBatches),\"batch_size\":\(fixedNoiseCount),\"eval_vs_batch_max_abs\":\(maxDiff),\"eval_vs_batch_psnr_db\":\(fmt(psnr, 2))}")]
    trainer.generator.parameters.save(into: &w)
    if keepRunningStatistics {
      try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    }
    try w.write(to: path)
    options.log("wrote \(path) (BN statistics re-estimated over \(options.reestimationBatches) x \(fixedNoiseCount) latents; eval vs batch-statistics output on the fixed noise: max |diff| \(fmt(Double(maxDiff), 4)), PSNR \(fmt(psnr, 1)) dB)")
  }

  func installHandlers() {
    signal(SIGINT) { _ in stopRequested = 1 }
    signal(SIGTERM) { _ in stopRequested = 1 }
  }
}

func fmt(_ x: Double, _ digits: Int) -> String {
  guard x.isFinite else { return "\(x)" }
  return String(format: "%.\(digits)f", x)
}

func duration(_ s: Double) -> String {
  guard s.isFinite, s >= 0 else { return "?" }
  let t = Int(s.rounded())
  return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t / 60 % 60))m" : (t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s")
}
