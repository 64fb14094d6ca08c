import Foundation
import GanData
import GanImage
import GanKernels
import GanModel

/// The files a training run writes: the real and fake grids, report.html, the checkpoint, the
/// exported generator (and its snapshots and --keep-best copy).
extension TrainingRun {

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
      ("lr", .number(Double(c.learningRate))), ("lr_g", .number(Double(c.lrG))), ("lr_d", .number(Double(c.lrD))),
      ("beta1", .number(Double(c.beta1))), ("beta2", .number(Double(c.beta2))), ("loss", .string(c.loss.rawValue)),
      ("n_dis", .number(Double(c.criticSteps))), ("gp_lambda", .number(Double(c.gradientPenaltyWeight))),
      ("clip", .number(Double(c.clip))),
      ("batch_size", .number(Double(c.batchSize))), ("shuffle", .bool(c.shuffle)), ("seed", .string(String(c.seed))),
    ]).serialized)]
    try trainer.checkpoint(extraMetadata: meta, epochOrder: epochOrder,
                           epoch: epoch(ofBatch: trainer.iteration * c.criticSteps)).write(to: checkpointPath)
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
    // Conditional: the normalizing statistics are shared by all classes, so the latents go with
    // uniformly drawn classes.
    sampler.reestimateBatchNormStatistics(passes: options.reestimationBatches) { p, pass in
      randomness.reestimationNoise(pass: pass, into: p, count: fixedNoiseCount * a.nz)
      if a.isConditional {
        randomness.reestimationLabels(pass: pass, into: sampler.labels, count: fixedNoiseCount, classes: a.classes)
      }
    }
    fixed.withUnsafeBufferPointer { sampler.input.update(from: $0.baseAddress!, count: $0.count) }
    fillFixedLabels()
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
    w.metadata = (labels.map { [("gan.classes", JSON.array($0.classNames.map { .string($0) }).serialized)] } ?? []) + [
                  ("gan.format", "swift-gan-generator-1"), ("gan.arch", a.json),
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

  /// --keep-best: the generator as at the end, to generator_best.safetensors, whenever the
  /// in-loop SWD beats the best so far.
  func keepBestIfImproved(swd: Double) throws {
    guard options.keepBest, bestSWD.map({ swd < $0.mean }) ?? true else { return }
    bestSWD = (trainer.iteration, swd)
    try writeGenerator(to: bestGeneratorPath, keepRunningStatistics: true)
    options.log("SWD \(formatFixed(swd, 1)) is the best so far: generator_best.safetensors is iteration " +
                "\(trainer.iteration)")
  }
}
