import CGanSystem
import GanKernels
import GanModel
import GanRuntime

/// gan-gen: generate images from a DCGAN generator. Links no Foundation (it runs on boards): the
/// command line is parsed by Flags, not swift-argument-parser (see Flags for why). The same
/// source builds with SwiftPM and as Embedded Swift (tools/build-board.sh): typed throws only.
struct GanGen {
  static let overview = "Generate images with a DCGAN generator: fp32 safetensors from gan-train or PyTorch, or an " +
                        "int8 file from gan-quant."
  static let discussion = """
    Image i of seed s comes from latent(s, i), a pure function of (s, i): the same image whatever \
    --batch, --first-index or --threads. Output is bitwise identical for any thread count and batch.
    Examples:
      gan-gen --model out/generator.safetensors --count 64 --grid 8 --out grid.png
      gan-gen --model g.safetensors --latents z.npy --save-raw x.npy --out pngs
      gan-gen --model g.safetensors --interpolate slerp --steps 10 --grid 10 --out walk.png
      gan-gen --model g.safetensors --bench --batch 1
    """
  static let flagSpecs: [Flags.Spec] = [
    .init(name: "model", value: "path",
          help: "Generator safetensors: gan-train's generator.safetensors, a PyTorch DCGAN state_dict (main.N. or N. " +
                "names), or gan-quant's int8 file."),
    .init(name: "count", value: "n", help: "Number of images (default: 64)."),
    .init(name: "seed", value: "n", help: "Seed of the latents (default: 0)."),
    .init(name: "first-index", value: "n",
          help: "Index of the first image (default: 0; image i of seed s is the same in any batch)."),
    .init(name: "batch", value: "n",
          help: "Images per generator call, 1 to \(GanGen.maxBatch) (default: min(count, 64)); memory is planned for " +
                "this size, and images are written a batch at a time, so memory does not grow with --count."),
    .init(name: "threads", value: "n",
          help: "Compute threads, 1 to \(GanGen.maxThreads) (default: all cores). Output does not depend on it."),
    .init(name: "out", value: "path",
          help: "Output: a folder of PNGs (image_NNNNNN.png), or with --grid the grid PNG's path. Default: samples " +
                "(or samples.png with --grid)."),
    .init(name: "grid", value: "n", help: "Write one grid PNG with this many columns instead of one PNG per image."),
    .init(name: "latents", value: "npy",
          help: "Latents from a float32 .npy of shape (N, nz) or (N, nz, 1, 1) instead of the seed (sets --count to " +
                "N)."),
    .init(name: "save-raw", value: "npy",
          help: "Also save the raw outputs as a float32 .npy of shape (N, C, H, W) in [-1, 1] (PyTorch's layout)."),
    .init(name: "interpolate", value: "linear|slerp",
          help: "Interpolate between two latents, 'linear' or 'slerp': images --from and --to of --seed (or the " +
                "first two --latents rows), --steps images."),
    .init(name: "from", value: "n", help: "Interpolation start image index (default: --first-index)."),
    .init(name: "to", value: "n", help: "Interpolation end image index (default: start + 1)."),
    .init(name: "steps", value: "n", help: "Interpolation steps, both ends included (default: 8)."),
    .init(name: "bench", value: nil,
          help: "Benchmark: warm up, then time --count images in calls of --batch; print latency percentiles and " +
                "img/s. Writes no images."),
    .init(name: "winograd", value: nil,
          help: "Run the deconvolution layers as Winograd: fp32 models F(4x4, 2x2) or F(2x2, 2x2), chosen per layer " +
                "shape from measurements, output within about 1e-6 relative of the default; int8 models the exact " +
                "F(2x2, 2x2) on layers with 128+ input channels where the CPU has no int8 dot product (AVX2, " +
                "Cortex-A72), output bitwise unchanged. --bench prints the choice. Faster at larger batches, slower " +
                "at batch 1; output stays identical across --threads and --batch."),
  ]

  static let maxThreads = FlagRange.threads.upperBound
  static let maxBatch = 4096

  var model: String
  var count: Int = 64
  var seed: UInt64 = 0
  var firstIndex: Int = 0
  var batch: Int?
  var threads: Int?
  var out: String?
  var grid: Int?
  var latents: String?
  var saveRaw: String?
  var interpolate: String?
  var from: Int?
  var to: Int?
  var steps: Int = 8
  var bench = false
  var winograd = false

  /// Parses the command line; nil when --help was printed.
  init?(arguments: [String]) throws(GanError) {
    var flags = Flags(GanGen.flagSpecs)
    try flags.parse(arguments)
    if flags.flag("help") {
      print(flags.helpText(command: "gan-gen", overview: GanGen.overview, usage: "--model <path> [<options>]",
                           discussion: GanGen.discussion), terminator: "")
      return nil
    }
    guard let v = flags.string("model") else { throw .usage("missing '--model <path>'") }
    model = v
    if let v = try flags.int("count") { count = v }
    if let v = try flags.uint64("seed") { seed = v }
    if let v = try flags.int("first-index") { firstIndex = v }
    batch = try flags.int("batch")
    threads = try flags.int("threads")
    out = flags.string("out")
    grid = try flags.int("grid")
    latents = flags.string("latents")
    saveRaw = flags.string("save-raw")
    interpolate = flags.string("interpolate")
    from = try flags.int("from")
    to = try flags.int("to")
    if let v = try flags.int("steps") { steps = v }
    bench = flags.flag("bench")
    winograd = flags.flag("winograd")
  }

  /// Latent indices are Philox streams: non-negative, and first + count must not overflow.
  static let maxIndex = 1 << 62

  func validate() throws(GanError) {
    guard count > 0 && count <= GanGen.maxIndex else { throw .usage("--count must be between 1 and 2^62") }
    if let b = batch, !(1...GanGen.maxBatch).contains(b) {
      throw .usage("--batch must be between 1 and \(GanGen.maxBatch)")
    }
    if let t = threads { try FlagRange.check("threads", t, FlagRange.threads) }
    if let g = grid, g < 1 { throw .usage("--grid must be at least 1") }
    guard (0...GanGen.maxIndex).contains(firstIndex), firstIndex <= GanGen.maxIndex - count else {
      throw .usage("--first-index must be between 0 and 2^62 - --count")
    }
    for (name, v) in [("from", from), ("to", to)] {
      if let v, !(0...GanGen.maxIndex).contains(v) { throw .usage("--\(name) must be between 0 and 2^62") }
    }
    if let m = interpolate, m != "linear" && m != "slerp" { throw .usage("--interpolate must be 'linear' or 'slerp'") }
    guard steps >= 2 && steps <= GanGen.maxIndex else { throw .usage("--steps must be at least 2") }
  }

  func run() throws(GanError) {
    let threadCount = min(threads ?? Kernels.defaultThreads, GanGen.maxThreads)
    // Latents first (they fix the count).
    var fileLatents: (values: [Float], count: Int, nz: Int)?
    if let l = latents { fileLatents = try NPY.readLatents(path: l) }
    let total = interpolate != nil ? steps : (fileLatents?.count ?? count)
    let batchSize = min(batch ?? min(total, 64), total)
    let runtime = try openGenerator(path: model, maxBatch: batchSize, threads: threadCount, winograd: winograd)
    let a = runtime.architecture
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
    } else {
      source = .seed(seed, firstIndex: firstIndex, count: total)
    }
    if bench {
      printBench(GeneratorBenchmark(runtime, latents: source, batch: batchSize), runtime)
      return
    }
    var outputs = GenerationOutputs(firstFileIndex: firstIndex, rawPath: saveRaw)
    if let cols = grid {
      outputs.gridPath = out ?? "samples.png"
      outputs.gridColumns = cols
    } else {
      outputs.pngFolder = out ?? "samples"
    }
    // Progress on a terminal only, at most every 2 s: long runs say where they are.
    let tty = isatty(2) != 0
    var last = gs_monotonic_seconds()
    try GenerationJob(generator: runtime, latents: source, batch: batchSize).run(writing: outputs) { done, all in
      guard tty else { return }
      let now = gs_monotonic_seconds()
      if now - last >= 2 || done == all { last = now; gs_write_stderr("gan-gen: \(done)/\(all) images\n") }
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
    if let command = try GanGen(arguments: Flags.commandLine()) {
      try command.validate()
      try command.run()
    }
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
