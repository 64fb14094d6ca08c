import ArgumentParser
import GanCommandLine
import Foundation
import GanData
import GanKernels
import GanModel
import GanTraining

/// gan-train: the flags of pytorch/examples dcgan in kebab-case, with the same defaults.
struct GanTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gan-train",
    abstract: "Train a DCGAN (Radford et al. 2015) on a folder of images, IDX files or a uint8 .npy array.",
    discussion: """
    Writes into --outf: real_samples.png, fake_samples_epoch_NNN.png (and _iter_ grids every \
    --sample-every iterations) from fixed noise, log.csv, report.html (refreshed as it trains), \
    checkpoint.safetensors (full state; also on Ctrl-C / SIGTERM) and, at the end, \
    generator.safetensors (fp32, PyTorch names, BatchNorm statistics re-estimated).
    Example: gan-train --dataroot fashion-mnist --image-size 32 --iterations 300 --outf out
    """)

  @Option(help: """
            Images: a folder (searched recursively for .png/.jpg/.jpeg), an IDX(.gz) file, a uint8 .npy (N,H,W[,C]), \
            or 'fashion-mnist' (Debian's dataset-fashion-mnist).
            """)
  var dataroot: String

  @Option(help: "Image side: 32, 64 or 128. Images are centre-cropped and area-resized.")
  var imageSize: Int = 64

  @Option(help: """
            Channels: 1 (gray) or 3 (RGB). Default: 1 for IDX data, 3 for image folders, the array's own for .npy.
            """)
  var channels: Int?

  @Option(help: "Input batch size, 1 to 4096.")
  var batchSize: Int = 64

  @Option(help: "Number of epochs to train for, 1 to 10^9 (an epoch is floor(images / batch-size) iterations).")
  var niter: Int = 25

  @Option(help: "Total iterations to train, 1 to 10^9 (overrides --niter; counts iterations before a resume).")
  var iterations: Int?

  @Option(help: "Adam learning rate, 1e-9 to 1.")
  var lr: Float = 0.0002

  @Option(help: "Adam beta1, 0 to 0.9999.")
  var beta1: Float = 0.5

  @Option(help: "Size of the latent z vector, 1 to 4096.")
  var nz: Int = 100

  @Option(help: "Generator feature maps (the last hidden layer's channels), 1 to 1024.")
  var ngf: Int = 64

  @Option(help: "Discriminator feature maps (the first layer's channels), 1 to 1024.")
  var ndf: Int = 64

  @Option(help: "Seed for weights, latents, fixed noise and data order (default: random, printed).")
  var manualSeed: UInt64?

  @Option(help: "Folder for images, logs, report and model files.")
  var outf: String = "."

  @Option(help: "Compute threads, 1 to 1024 (default: all cores). Results are identical for any count.")
  var threads: Int?

  @Flag(help: "Continue from <outf>/checkpoint.safetensors exactly where it stopped.")
  var resume = false

  @Option(name: .customLong("init"),
          help: """
            Start from the G and D weights in this safetensors file (names G.main.N... / D.main.N..., as in \
            checkpoint.safetensors).
            """)
  var initFile: String?

  @Option(help: "Write a fixed-noise grid every N iterations, 1 to 10^9 (and at every epoch end).")
  var sampleEvery: Int = 500

  @Option(help: "Write checkpoint.safetensors every N iterations, 1 to 10^9 (and at the end, and on SIGINT/SIGTERM).")
  var checkpointEvery: Int = 500

  @Flag(help: "Keep the data in file order instead of reshuffling every epoch.")
  var noShuffle = false

  @Option(help: """
            Training latents from a float32 .npy of shape (N, nz) or (N, nz, 1, 1): batch-size rows per iteration, in \
            order.
            """)
  var noise: String?

  @Option(help: """
            Sliced Wasserstein distance (ProGAN) of generated against held-out real images every N iterations, in \
            log.csv and report.html, 0 to 10^9 (0: off).
            """)
  var swdEvery: Int = 500

  @Option(help: """
            Images in the SWD sets, 1 to 65536: the dataset's last N images are held out of training (needs at least 4N images).
            """)
  var swdImages: Int = 512

  @Flag(help: """
          Run G's hidden deconvolutions (forward, BatchNorm statistics fused), D's convolutions (forward) and D's \
          backward-data as Winograd convolutions on the layers where they pay in training (a per-shape table; the \
          transformed weights are re-derived after every optimizer step): results differ from the default within \
          rounding and stay independent of --threads.
          """)
  var winograd = false

  @Option(help: """
            Also write the generator (BN statistics re-estimated, as at the end) to \
            <outf>/snapshots/generator_iter_NNNNNNN.safetensors every N iterations, for evaluating a run along the way \
            (0 to 10^9; 0: off).
            """)
  var snapshotEvery: Int = 0

  @Option(help: "Folder of the decoded-dataset cache (default: $XDG_CACHE_HOME/swift-gan or ~/.cache/swift-gan).")
  var cacheDir: String?

  /// Every numeric flag has a range (FlagRange, listed in the README); outside it is a usage error.
  func validate() throws {
    guard Architecture.supportedImageSizes.contains(imageSize) else {
      throw ValidationError("--image-size must be 32, 64 or 128")
    }
    try checkFlag("batch-size", batchSize, FlagRange.trainingBatch)
    if let c = channels, c != 1 && c != 3 { throw ValidationError("--channels must be 1 or 3") }
    if let t = threads { try checkFlag("threads", t, FlagRange.threads) }
    try checkFlag("niter", niter, FlagRange.iterations)
    if let n = iterations { try checkFlag("iterations", n, FlagRange.iterations) }
    try checkFlag("lr", lr, FlagRange.learningRate)
    try checkFlag("beta1", beta1, FlagRange.beta)
    try checkFlag("nz", nz, FlagRange.nz)
    try checkFlag("ngf", ngf, FlagRange.featureMaps)
    try checkFlag("ndf", ndf, FlagRange.featureMaps)
    try checkFlag("sample-every", sampleEvery, FlagRange.iterations)
    try checkFlag("checkpoint-every", checkpointEvery, FlagRange.iterations)
    try checkFlag("snapshot-every", snapshotEvery, FlagRange.period)
    try checkFlag("swd-every", swdEvery, FlagRange.period)
    try checkFlag("swd-images", swdImages, FlagRange.swdImages)
    if resume && initFile != nil { throw ValidationError("--resume and --init exclude each other") }
  }

  func run() throws {
    do {
      try train()
    } catch let e as TrainingError {
      FileHandle.standardError.write("gan-train: \(e)\n".data(using: .utf8)!)
      throw ExitCode(2)
    } catch let e as ValidationError {
      throw e
    } catch let e as ExitCode {
      throw e
    } catch {
      FileHandle.standardError.write("gan-train: \(error)\n".data(using: .utf8)!)
      throw ExitCode(1)
    }
  }

  func train() throws {
    let source = try DataSource.resolve(dataroot)
    let nc = channels ?? source.defaultChannels
    let arch = try Architecture(imageSize: imageSize, nz: nz, ngf: ngf, ndf: ndf, nc: nc)
    // A resumed run's latents and data order follow the checkpoint's seed.
    let needed = arch.trainingBytesEstimate(batch: batchSize), memory = ProcessInfo.processInfo.physicalMemory
    guard UInt64(needed) <= memory else {
      throw ValidationError("\(arch) at batch \(batchSize) needs about \(needed >> 20) MiB, more than this machine's " +
                            "\(memory >> 20) MiB: lower --batch-size, --ngf, --ndf or --image-size")
    }
    let seed = try manualSeed ?? (resume ? TrainingRun.checkpointSeed(outf: outf) : UInt64.random(in: 0...UInt64(UInt32.max)))
    let threadCount = threads ?? Kernels.defaultThreads
    print("gan-train: \(arch), batch \(batchSize), lr \(lr), beta1 \(beta1), seed \(seed), threads \(threadCount), " +
          "kernels \(Kernels.selectedGemmVariant.name) [\(Kernels.cpuFeatures)]")
    let unreadableList = outf + "/unreadable-files.txt"
    let dataset = try DatasetLoader.load(source, size: imageSize, channels: nc,
                                         cacheDirectory: cacheDir ?? DatasetLoader.defaultCacheDirectory,
                                         unreadableListPath: unreadableList) { print($0); fflush(stdout) }
    if dataset.skipped > 0 {
      print("warning: \(dataset.skipped) unreadable files skipped, all listed in \(unreadableList); first: " +
            "\(dataset.unreadableFiles.prefix(3).joined(separator: "; "))")
    }
    var cfg = TrainingConfiguration(architecture: arch)
    (cfg.batchSize, cfg.learningRate, cfg.beta1, cfg.seed) = (batchSize, lr, beta1, seed)
    (cfg.threads, cfg.shuffle, cfg.winograd) = (threadCount, !noShuffle, winograd)
    var opts = RunOptions()
    (opts.outf, opts.iterations, opts.epochs, opts.resume, opts.initFrom, opts.noiseFile) = (outf, iterations, niter,
        resume, initFile, noise)
    (opts.sampleEvery, opts.checkpointEvery, opts.snapshotEvery) = (sampleEvery, checkpointEvery, snapshotEvery)
    (opts.swdEvery, opts.swdImages) = (swdEvery, swdImages)
    let terminal = TerminalProgress()
    opts.log = terminal.notice
    if terminal.isTerminal { opts.progress = terminal.status }
    opts.shouldStop = StopSignal.install()
    let run = try TrainingRun(configuration: cfg, dataset: dataset, options: opts)
    if winograd { print(run.winogradSummary) }
    let it: Int
    do {
      it = try run.run()
      terminal.endStatus()
    } catch {
      terminal.endStatus()
      throw error
    }
    if run.stoppedBySignal {
      print("interrupted at iteration \(it); continue with the same command plus --resume")
      throw ExitCode(130)
    }
    print("done at iteration \(it): grids and report.html in \(outf)/ (open \(outf)/report.html)")
  }
}

OneLineErrors.main(GanTrain.self)
