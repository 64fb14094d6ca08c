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

  @OptionGroup var options: GanTrainOptions

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
    let source = try DataSource.resolve(options.dataroot)
    let nc = options.channels ?? source.defaultChannels
    let arch = try Architecture(imageSize: options.imageSize, nz: options.nz, ngf: options.ngf, ndf: options.ndf, nc: nc)
    // A resumed run's latents and data order follow the checkpoint's seed.
    let needed = arch.trainingBytesEstimate(batch: options.batchSize), memory = ProcessInfo.processInfo.physicalMemory
    guard UInt64(needed) <= memory else {
      throw ValidationError("\(arch) at batch \(options.batchSize) needs about \(needed >> 20) MiB, more than this machine's " +
                            "\(memory >> 20) MiB: lower --batch-size, --ngf, --ndf or --image-size")
    }
    let seed = try options.manualSeed ?? (options.resume ? TrainingRun.checkpointSeed(outf: options.outf) : UInt64.random(in: 0...UInt64(UInt32.max)))
    let threadCount = options.threads ?? Kernels.defaultThreads
    print("gan-train: \(arch), batch \(options.batchSize), lr \(options.lr), beta1 \(options.beta1), seed \(seed), threads \(threadCount), " +
          "kernels \(Kernels.selectedGemmVariant.name) [\(Kernels.cpuFeatures)]")
    let unreadableList = options.outf + "/unreadable-files.txt"
    let dataset = try DatasetLoader.load(source, size: options.imageSize, channels: nc,
                                         cacheDirectory: options.cacheDir ?? DatasetLoader.defaultCacheDirectory,
                                         unreadableListPath: unreadableList) { print($0); fflush(stdout) }
    if dataset.skipped > 0 {
      print("warning: \(dataset.skipped) unreadable files skipped, all listed in \(unreadableList); first: " +
            "\(dataset.unreadableFiles.prefix(3).joined(separator: "; "))")
    }
    var cfg = TrainingConfiguration(architecture: arch)
    (cfg.batchSize, cfg.learningRate, cfg.beta1, cfg.seed) = (options.batchSize, options.lr, options.beta1, seed)
    (cfg.threads, cfg.shuffle, cfg.winograd) = (threadCount, !options.noShuffle, options.winograd)
    var opts = RunOptions()
    (opts.outf, opts.iterations, opts.epochs, opts.resume, opts.initFrom, opts.noiseFile) = (options.outf, options.iterations, options.niter,
        options.resume, options.initFile, options.noise)
    (opts.sampleEvery, opts.checkpointEvery, opts.snapshotEvery) = (options.sampleEvery, options.checkpointEvery, options.snapshotEvery)
    (opts.swdEvery, opts.swdImages) = (options.swdEvery, options.swdImages)
    let terminal = TerminalProgress()
    opts.log = terminal.notice
    if terminal.isTerminal { opts.progress = terminal.status }
    opts.shouldStop = StopSignal.install()
    let run = try TrainingRun(configuration: cfg, dataset: dataset, options: opts)
    if options.winograd { print(run.winogradSummary) }
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
    print("done at iteration \(it): grids and report.html in \(options.outf)/ (open \(options.outf)/report.html)")
  }
}

OneLineErrors.main(GanTrain.self)
