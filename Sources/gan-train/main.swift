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
    abstract: """
      Train a DCGAN (Radford et al. 2015) or a SAGAN (Zhang et al. 2018; class-conditional with --conditional) \
      on a folder of images, IDX files or a uint8 .npy array.
      """,
    discussion: """
    Writes into --outf: real_samples.png, fake_samples_epoch_NNN.png (and _iter_ grids every \
    --sample-every iterations) from fixed noise, log.csv, report.html (refreshed as it trains), \
    checkpoint.safetensors (full state; also on Ctrl-C / SIGTERM) and, at the end, \
    generator.safetensors (fp32, PyTorch names, BatchNorm statistics re-estimated).
    Examples:
      gan-train --dataroot fashion-mnist --image-size 32 --iterations 300 --outf out
      gan-train --dataroot fashion-mnist --image-size 32 --arch sagan --conditional --loss hinge \
        --lr-g 1e-4 --lr-d 4e-4 --beta1 0 --beta2 0.9 --iterations 3000 --outf out-sagan
    """)

  @OptionGroup var options: GanTrainOptions

  func run() throws {
    // Under mpirun: join the job first (a reduction that fails names the lost rank and exits).
    var communicator = Communicator.single
    if Communicator.launchedRanks > 0 {
      do {
        communicator = try Communicator.mpi { reason in
          FileHandle.standardError.write("gan-train: \(reason)\n".data(using: .utf8)!)
          Foundation.exit(1)
        }
      } catch {
        FileHandle.standardError.write("gan-train: \(error)\n".data(using: .utf8)!)
        throw ExitCode(1)
      }
    }
    defer { communicator.finalize() }
    let rankPrefix = communicator.size > 1 ? "rank \(communicator.rank): " : ""
    do {
      try train(communicator)
    } catch let e as TrainingError {
      FileHandle.standardError.write("gan-train: \(rankPrefix)\(e)\n".data(using: .utf8)!)
      throw ExitCode(2)
    } catch let e as ValidationError {
      throw e
    } catch let e as ExitCode {
      throw e
    } catch {
      FileHandle.standardError.write("gan-train: \(rankPrefix)\(error)\n".data(using: .utf8)!)
      throw ExitCode(1)
    }
  }

  func train(_ communicator: Communicator) throws {
    // Rank 0 speaks for the job; the other ranks print only errors.
    let say: (String) -> Void = communicator.isWriter ? { print($0); fflush(stdout) } : { _ in }
    guard options.batchSize % communicator.size == 0 else {
      throw ValidationError("--batch-size \(options.batchSize) must be a multiple of the \(communicator.size) ranks " +
                            "(each rank trains batch-size / ranks images)")
    }
    let source = try DataSource.resolve(options.dataroot)
    let nc = options.channels ?? source.defaultChannels
    let family = ModelFamily(rawValue: options.arch)!
    // Labels are checked against the dataset below; the class count sizes the model now.
    var labelSource: LabelSource?
    if options.conditional {
      if let path = options.labels {
        labelSource = path.lowercased().hasSuffix(".npy") ? .npy(path) : .idx(path)
      } else {
        guard let s = source.defaultLabels else {
          throw ValidationError("--conditional: no labels for \(options.dataroot); give them with --labels")
        }
        labelSource = s
      }
    }
    // WGAN-GP's penalty is per sample: a DCGAN critic drops its BatchNorm (Conv + LeakyReLU throughout).
    let arch = try Architecture(imageSize: options.imageSize, nz: options.nz, ngf: options.ngf, ndf: options.ndf, nc: nc,
                                family: family, classes: 0, attentionAt: family == .sagan ? options.attentionAt : nil,
                                discriminatorBatchNorm: options.loss != "wgan-gp")
    // A resumed run's latents and data order follow the checkpoint's seed.
    let needed = arch.trainingBytesEstimate(batch: options.batchSize), memory = ProcessInfo.processInfo.physicalMemory
    guard UInt64(needed) <= memory else {
      throw ValidationError("\(arch) at batch \(options.batchSize) needs about \(needed >> 20) MiB, more than this machine's " +
                            "\(memory >> 20) MiB: lower --batch-size, --ngf, --ndf or --image-size")
    }
    let seed = try options.manualSeed ?? (options.resume ? TrainingRun.checkpointSeed(outf: options.outf) : UInt64.random(in: 0...UInt64(UInt32.max)))
    // Ranks sharing a machine share its cores.
    let localRanks = max(1, Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1)
    let threadCount = options.threads ?? max(1, Kernels.defaultThreads / localRanks)
    let unreadableList = options.outf + "/unreadable-files.txt"
    // Rank 0 decodes and caches the dataset first; the others then read its cache.
    if !communicator.isWriter { communicator.barrier() }
    let dataset = try DatasetLoader.load(source, size: options.imageSize, channels: nc,
                                         cacheDirectory: options.cacheDir ?? DatasetLoader.defaultCacheDirectory,
                                         unreadableListPath: communicator.isWriter ? unreadableList : nil, progress: say)
    if communicator.isWriter && communicator.size > 1 { communicator.barrier() }
    if dataset.skipped > 0 && communicator.isWriter {
      print("warning: \(dataset.skipped) unreadable files skipped, all listed in \(unreadableList); first: " +
            "\(dataset.unreadableFiles.prefix(3).joined(separator: "; "))")
    }
    var labels: DatasetLabels?
    var model = arch
    if let s = labelSource {
      let l = try DatasetLabels.load(s, for: dataset, dataSource: source)
      model = try Architecture(imageSize: arch.imageSize, nz: arch.nz, ngf: arch.ngf, ndf: arch.ndf, nc: arch.nc,
                               family: .sagan, classes: l.classCount, attentionAt: arch.attentionAt)
      say("classes: \(l.classCount) (\(l.classNames.prefix(12).joined(separator: ", "))" +
            "\(l.classCount > 12 ? ", ..." : ""))")
      labels = l
    }
    let lrText = options.lrG == nil && options.lrD == nil ? "lr \(options.lr)"
      : "lr G \(options.lrG ?? options.lr) D \(options.lrD ?? options.lr)"
    say("gan-train: \(model)\(communicator.size > 1 ? ", ranks \(communicator.size)" : ""), loss \(options.loss)\(options.loss == "wgan-gp" ? " (lambda \(options.gpLambda))" : (options.loss == "wasserstein" ? " (clip \(options.clip))" : "")), batch \(options.batchSize), \(lrText), betas (\(options.beta1), " +
          "\(options.beta2))\(options.nDis > 1 ? ", n-dis \(options.nDis)" : ""), seed \(seed), threads \(threadCount), " +
          "kernels \(Kernels.selectedGemmVariant.name) [\(Kernels.cpuFeatures)]")
    var cfg = TrainingConfiguration(architecture: model)
    (cfg.batchSize, cfg.learningRate, cfg.beta1, cfg.seed) = (options.batchSize, options.lr, options.beta1, seed)
    (cfg.threads, cfg.shuffle, cfg.winograd) = (threadCount, !options.noShuffle, options.useWinograd && !model.isSAGAN)
    (cfg.generatorLearningRate, cfg.discriminatorLearningRate, cfg.beta2) = (options.lrG, options.lrD, options.beta2)
    (cfg.loss, cfg.criticSteps) = (GANLoss(rawValue: options.loss)!, options.nDis)
    (cfg.gradientPenaltyWeight, cfg.clip) = (options.gpLambda, options.clip)
    var opts = RunOptions()
    (opts.outf, opts.iterations, opts.epochs, opts.resume, opts.initFrom, opts.noiseFile) = (options.outf, options.iterations, options.niter,
        options.resume, options.initFile, options.noise)
    opts.mixingFile = options.mixing
    (opts.sampleEvery, opts.checkpointEvery, opts.snapshotEvery) = (options.sampleEvery, options.checkpointEvery, options.snapshotEvery)
    (opts.swdEvery, opts.swdImages, opts.keepBest) = (options.swdEvery, options.swdImages, options.keepBest)
    let terminal = TerminalProgress()
    opts.log = communicator.isWriter ? terminal.notice : { _ in }
    if terminal.isTerminal && communicator.isWriter { opts.progress = terminal.status }
    opts.shouldStop = StopSignal.install()
    let run = try TrainingRun(configuration: cfg, dataset: dataset, labels: labels, options: opts,
                              communicator: communicator)
    if !model.isSAGAN { say(cfg.winograd ? run.winogradSummary : "winograd: off (--no-winograd), direct kernels everywhere") }
    let it: Int
    do {
      it = try run.run()
      terminal.endStatus()
    } catch {
      terminal.endStatus()
      throw error
    }
    if run.stoppedBySignal {
      say("interrupted at iteration \(it); continue with the same command plus --resume")
      throw ExitCode(130)
    }
    if communicator.size > 1 {
      let steps = max(1, it - run.firstIteration)
      say("reductions: rank 0 sent \(communicator.bytesSent) bytes over \(steps) iterations, " +
          "\(communicator.bytesSent / UInt64(steps)) bytes per iteration")
    }
    say("done at iteration \(it): grids and report.html in \(options.outf)/ (open \(options.outf)/report.html)")
  }
}

OneLineErrors.main(GanTrain.self)
