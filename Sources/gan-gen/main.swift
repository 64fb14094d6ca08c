import CGanSystem
import GanKernels
import GanModel
import GanRuntime

/// gan-gen: generate images from a DCGAN generator. Links no Foundation (it runs on boards). The
/// same source builds with SwiftPM and as Embedded Swift (tools/build-board.sh): typed throws only.
extension GanGenOptions {
  func run() throws(GanError) {
    let threadCount = min(threads ?? Kernels.defaultThreads, GanGenOptions.maxThreads)
    // Latents first (they fix the count).
    var fileLatents: (values: [Float], count: Int, nz: Int)?
    if let l = latents { fileLatents = try NPY.readLatents(path: l) }
    var total = interpolate != nil ? steps : (fileLatents?.count ?? count)
    // --class all: one row of --grid images per class, whose count only the model knows.
    let perClass = classChoice == "all" ? (grid ?? 8) : 0
    var batchSize = min(batch ?? min(total, 64), total)
    if perClass > 0 { batchSize = batch ?? 64 }
    let runtime = try openGenerator(path: model, maxBatch: batchSize, threads: threadCount, winograd: winograd)
    let a = runtime.architecture
    let classes = try classAssignment(names: runtime.classNames, columns: perClass)
    if perClass > 0 {
      total = perClass * a.classes
      guard total <= GenerationJob.maxGridBytes / (a.imageSize * a.imageSize * a.nc) else {
        throw .usage("--class all: \(a.classes) classes x \(perClass) images make too large a grid")
      }
    }
    if let f = fileLatents, let path = latents { try NPY.checkLatentWidth(f.nz, expected: a.nz, path: path) }
    let source: LatentSource
    if let m = interpolate {
      var ends = [Float](repeating: 0, count: 2 * a.nz)
      if let f = fileLatents, f.count >= 2 {
        for i in 0..<(2 * a.nz) { ends[i] = f.values[i] }
      } else {
        let i0 = from ?? firstIndex
        ends.withUnsafeMutableBufferPointer { e in
          latent(seed: seed, index: i0, into: e.baseAddress!, nz: a.nz)
          latent(seed: seed, index: to ?? (i0 + 1), into: e.baseAddress! + a.nz, nz: a.nz)
        }
      }
      source = .interpolation(from: Array(ends[0..<a.nz]), to: Array(ends[a.nz...]), steps: total, slerp: m == "slerp")
    } else if let f = fileLatents {
      source = .rows(f.values, count: f.count)
    } else if perClass > 0 {
      // The same perClass latents (images first-index ... of the seed) in every class's row.
      let row = LatentSource.seed(seed, firstIndex: firstIndex, count: perClass).latents(nz: a.nz)
      var values: [Float] = []
      values.reserveCapacity(total * a.nz)
      for _ in 0..<a.classes { values += row }
      source = .rows(values, count: total)
    } else {
      source = .seed(seed, firstIndex: firstIndex, count: total)
    }
    if bench {
      printBench(GeneratorBenchmark(runtime, latents: source, batch: min(batchSize, total)), runtime)
      return
    }
    var outputs = GenerationOutputs(firstFileIndex: firstIndex, rawPath: saveRaw)
    if perClass > 0 {
      outputs.gridPath = out ?? "samples.png"
      outputs.gridColumns = perClass
    } else if let cols = grid {
      outputs.gridPath = out ?? "samples.png"
      outputs.gridColumns = cols
    } else {
      outputs.pngFolder = out ?? "samples"
    }
    // Progress on a terminal only, at most every 2 s: long runs say where they are.
    let tty = isatty(2) != 0
    var last = gs_monotonic_seconds()
    try GenerationJob(generator: runtime, latents: source, classes: classes, batch: min(batchSize, total))
      .run(writing: outputs) { done, all in
      guard tty else { return }
      let now = gs_monotonic_seconds()
      if now - last >= 2 || done == all { last = now; gs_write_stderr("gan-gen: \(done)/\(all) images\n") }
    }
    if perClass > 0 {
      for (k, name) in runtime.classNames.enumerated() { print("row \(k): class \(k) \(name)") }
    } else if case .fixed(let k) = classes {
      print("class \(k) \(runtime.classNames[k])")
    }
    if let path = outputs.gridPath {
      print("wrote \(path) (\(total) images, \(a))")
    } else {
      print("wrote \(total) PNGs to \(outputs.pngFolder!)/ (\(a))")
    }
  }

  func printBench(_ b: GeneratorBenchmark, _ runtime: ImageGenerator) {
    print("gan-gen bench: \(runtime.architecture), batch \(b.batch), threads \(runtime.threads), \(b.times.count) " +
          "calls after \(b.warmupCalls) warm-up")
    print("kernels: \(runtime.kernelDescription) [\(Kernels.cpuFeatures)]")
    print("latency per call (ms): p50 \(formatFixed(b.percentileMilliseconds(0.5), 3))  p90 " +
          "\(formatFixed(b.percentileMilliseconds(0.9), 3))  p99 \(formatFixed(b.percentileMilliseconds(0.99), 3))  " +
          "min \(formatFixed(b.times[0] * 1e3, 3))")
    print("throughput: \(formatFixed(b.medianImagesPerSecond, 1)) img/s at the median, " +
          "\(formatFixed(b.meanImagesPerSecond, 1)) img/s mean")
  }
}

/// Usage errors exit with 64 (EX_USAGE), run-time failures with 1, each as one line on stderr.
func ganGenMain() -> Int32 {
  do {
    guard let command = try GanGenOptions(arguments: Flags.commandLine()) else {
      print(GanGenOptions.helpText, terminator: "")
      return 0
    }
    try command.validate()
    try command.run()
    return 0
  } catch {
    if case .usage(let message) = error {
      gs_write_stderr("gan-gen: \(message) (see gan-gen --help)\n")
      return 64
    }
    gs_write_stderr("gan-gen: \(error.description)\n")
    return 1
  }
}

gs_exit(ganGenMain())
