import GanImage
import GanKernels
import GanModel
import GanRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gan-gen: generate images from a DCGAN generator. Links no Foundation (it runs on boards): the
/// command line is parsed by Flags, not swift-argument-parser (see Flags for why).
struct GanGen {
  static let overview = "Generate images with a DCGAN generator: fp32 safetensors from gan-train or PyTorch, or an int8 file from gan-quant."
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
    .init(name: "model", value: "path", help: "Generator safetensors: gan-train's generator.safetensors, a PyTorch DCGAN state_dict (main.N. or N. names), or gan-quant's int8 file."),
    .init(name: "count", value: "n", help: "Number of images (default: 64)."),
    .init(name: "seed", value: "n", help: "Seed of the latents (default: 0)."),
    .init(name: "first-index", value: "n", help: "Index of the first image (default: 0; image i of seed s is the same in any batch)."),
    .init(name: "batch", value: "n", help: "Images per generator call (default: min(count, 64)); memory is planned for this size."),
    .init(name: "threads", value: "n", help: "Compute threads (default: all cores). Output does not depend on it."),
    .init(name: "out", value: "path", help: "Output: a folder of PNGs (image_NNNNNN.png), or with --grid the grid PNG's path. Default: samples (or samples.png with --grid)."),
    .init(name: "grid", value: "n", help: "Write one grid PNG with this many columns instead of one PNG per image."),
    .init(name: "latents", value: "npy", help: "Latents from a float32 .npy of shape (N, nz) or (N, nz, 1, 1) instead of the seed (sets --count to N)."),
    .init(name: "save-raw", value: "npy", help: "Also save the raw outputs as a float32 .npy of shape (N, C, H, W) in [-1, 1] (PyTorch's layout)."),
    .init(name: "interpolate", value: "linear|slerp", help: "Interpolate between two latents, 'linear' or 'slerp': images --from and --to of --seed (or the first two --latents rows), --steps images."),
    .init(name: "from", value: "n", help: "Interpolation start image index (default: --first-index)."),
    .init(name: "to", value: "n", help: "Interpolation end image index (default: start + 1)."),
    .init(name: "steps", value: "n", help: "Interpolation steps, both ends included (default: 8)."),
    .init(name: "bench", value: nil, help: "Benchmark: warm up, then time --count images in calls of --batch; print latency percentiles and img/s. Writes no images."),
    .init(name: "winograd", value: nil, help: "Run the deconvolution layers as Winograd: fp32 models F(4x4, 2x2) or F(2x2, 2x2), chosen per layer shape from measurements, output within about 1e-6 relative of the default; int8 models the exact F(2x2, 2x2) on layers with 128+ input channels where the CPU has no int8 dot product (AVX2, Cortex-A72), output bitwise unchanged. --bench prints the choice. Faster at larger batches, slower at batch 1; output stays identical across --threads and --batch."),
  ]

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
  init?(arguments: [String]) throws {
    var flags = Flags(GanGen.flagSpecs)
    try flags.parse(arguments)
    if flags.flag("help") {
      print(flags.helpText(command: "gan-gen", overview: GanGen.overview, usage: "--model <path> [<options>]",
                           discussion: GanGen.discussion), terminator: "")
      return nil
    }
    guard let v = flags.string("model") else { throw Flags.UsageError(message: "missing '--model <path>'") }
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

  func validate() throws {
    guard count > 0 else { throw Flags.UsageError(message: "--count must be positive") }
    if let b = batch, b < 1 { throw Flags.UsageError(message: "--batch must be at least 1") }
    if let t = threads, t < 1 { throw Flags.UsageError(message: "--threads must be at least 1") }
    if let g = grid, g < 1 { throw Flags.UsageError(message: "--grid must be at least 1") }
    if let m = interpolate, m != "linear" && m != "slerp" { throw Flags.UsageError(message: "--interpolate must be 'linear' or 'slerp'") }
    guard steps >= 2 else { throw Flags.UsageError(message: "--steps must be at least 2") }
  }

  /// A run-time failure: one line on stderr, exit status 1.
  struct Failure: Error { let message: String }
  func fail(_ message: String) -> Failure { Failure(message: message) }

  func run() throws {
    let threadCount = threads ?? Kernels.defaultThreads
    // Latents first (they fix the count).
    var fileLatents: [Float]?
    var nzFromFile = 0
    if let l = latents {
      do {
        let (v, shape) = try NPY.readFloat32(path: l)
        guard shape.count >= 2, shape.dropFirst(2).allSatisfy({ $0 == 1 }), shape[0] > 0 else {
          throw fail("\(l): latents of shape \(shape); expected (N, nz) or (N, nz, 1, 1)")
        }
        fileLatents = v
        nzFromFile = shape[1]
      } catch let e as Failure { throw e } catch { throw fail("\(error)") }
    }
    let total: Int
    if interpolate != nil { total = steps } else if let f = fileLatents { total = f.count / nzFromFile } else { total = count }
    let batchSize = min(batch ?? min(total, 64), total)
    let runtime: ImageGenerator
    do { runtime = try openGenerator(path: model, maxBatch: batchSize, threads: threadCount, winograd: winograd) } catch { throw fail("\(error)") }
    let a = runtime.architecture
    if fileLatents != nil && nzFromFile != a.nz {
      throw fail("\(latents!): latents have nz \(nzFromFile), the model expects \(a.nz)")
    }
    // All latents (count x nz), then generation in batches.
    var z = [Float](repeating: 0, count: total * a.nz)
    z.withUnsafeMutableBufferPointer { zp in
      if let m = interpolate {
        var ends = [Float](repeating: 0, count: 2 * a.nz)
        ends.withUnsafeMutableBufferPointer { e in
          if let f = fileLatents, f.count >= 2 * a.nz {
            for i in 0..<(2 * a.nz) { e[i] = f[i] }
          } else {
            let i0 = from ?? firstIndex
            latent(seed: seed, index: i0, into: e.baseAddress!, nz: a.nz)
            latent(seed: seed, index: to ?? (i0 + 1), into: e.baseAddress! + a.nz, nz: a.nz)
          }
        }
        Interpolation.fill(zp.baseAddress!, from: ends, nz: a.nz, steps: total, slerp: m == "slerp")
      } else if let f = fileLatents {
        for i in 0..<zp.count { zp[i] = f[i] }
      } else {
        for i in 0..<total { latent(seed: seed, index: firstIndex + i, into: zp.baseAddress! + i * a.nz, nz: a.nz) }
      }
    }
    if bench {
      try runBench(runtime, z: z, total: total, batchSize: batchSize)
      return
    }
    var images = [Float](repeating: 0, count: total * runtime.imageElements)
    var pixels = [UInt8](repeating: 0, count: total * runtime.imageElements)
    z.withUnsafeBufferPointer { zp in images.withUnsafeMutableBufferPointer { ip in pixels.withUnsafeMutableBufferPointer { pp in
      var i = 0
      while i < total {
        let n = min(batchSize, total - i)
        runtime.generate(latents: zp.baseAddress! + i * a.nz, count: n, output: ip.baseAddress! + i * runtime.imageElements,
                         pixels: pp.baseAddress! + i * runtime.imageElements)
        i += n
      }
    }}}
    do {
      if let raw = saveRaw {
        // NHWC -> NCHW, PyTorch's layout.
        let s = a.imageSize, c = a.nc
        var nchw = [Float](repeating: 0, count: images.count)
        for n in 0..<total { for y in 0..<s { for x in 0..<s { for ch in 0..<c {
          nchw[((n * c + ch) * s + y) * s + x] = images[((n * s + y) * s + x) * c + ch]
        }}}}
        try nchw.withUnsafeBufferPointer { try NPY.writeFloat32(path: raw, values: $0, shape: [total, c, s, s]) }
      }
      if let cols = grid {
        let path = out ?? "samples.png"
        let g = images.withUnsafeBufferPointer { Image.grid(nhwc: $0.baseAddress!, count: total, size: a.imageSize, channels: a.nc, columns: cols) }
        try g.writePNG(path: path)
        print("wrote \(path) (\(total) images, \(a))")
      } else {
        let dir = out ?? "samples"
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw ImageError(path: dir, reason: String(cString: strerror(errno))) }
        for i in 0..<total {
          let start = i * runtime.imageElements
          let img = Image(width: a.imageSize, height: a.imageSize, channels: a.nc,
                          pixels: Array(pixels[start..<(start + runtime.imageElements)]))
          try img.writePNG(path: dir + "/" + fileName(firstIndex + i))
        }
        print("wrote \(total) PNGs to \(dir)/ (\(a))")
      }
    } catch { throw fail("\(error)") }
  }

  func fileName(_ i: Int) -> String {
    let s = String(i)
    return "image_" + String(repeating: "0", count: max(0, 6 - s.count)) + s + ".png"
  }

  func runBench(_ runtime: ImageGenerator, z: [Float], total: Int, batchSize: Int) throws {
    let a = runtime.architecture
    let out = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * runtime.imageElements)
    let px = UnsafeMutablePointer<UInt8>.allocate(capacity: batchSize * runtime.imageElements)
    defer { out.deallocate(); px.deallocate() }
    func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }
    z.withUnsafeBufferPointer { zp in
      // Warm-up: about a second, at least 3 calls.
      let w0 = now()
      var calls = 0
      while calls < 3 || now() - w0 < 1 {
        runtime.generate(latents: zp.baseAddress!, count: batchSize, output: out, pixels: px)
        calls += 1
      }
      let reps = max(5, (total + batchSize - 1) / batchSize)
      var times: [Double] = []
      times.reserveCapacity(reps)
      for r in 0..<reps {
        let off = (r * batchSize) % max(1, total - batchSize + 1)
        let t0 = now()
        runtime.generate(latents: zp.baseAddress! + off * a.nz, count: batchSize, output: out, pixels: px)
        times.append(now() - t0)
      }
      times.sort()
      func pct(_ p: Double) -> Double { times[min(times.count - 1, Int(Double(times.count - 1) * p + 0.5))] * 1e3 }
      let mean = times.reduce(0, +) / Double(times.count)
      print("gan-gen bench: \(a), batch \(batchSize), threads \(runtime.threads), \(reps) calls after \(calls) warm-up")
      print("kernels: \(runtime.kernelDescription) [\(Kernels.cpuFeatures)]")
      print("latency per call (ms): p50 \(f3(pct(0.5)))  p90 \(f3(pct(0.9)))  p99 \(f3(pct(0.99)))  min \(f3(times[0] * 1e3))")
      print("throughput: \(f1(Double(batchSize) / (times[times.count / 2]))) img/s at the median, \(f1(Double(batchSize) / mean)) img/s mean")
    }
  }
}

func f3(_ x: Double) -> String { let v = (x * 1000).rounded() / 1000; return "\(v)" }
func f1(_ x: Double) -> String { let v = (x * 10).rounded() / 10; return "\(v)" }

/// Latent interpolation: linear, or spherical (slerp) as in White 2016 "Sampling Generative Networks".
enum Interpolation {
  static func fill(_ out: UnsafeMutablePointer<Float>, from ends: [Float], nz: Int, steps: Int, slerp: Bool) {
    var dot = 0.0, n0 = 0.0, n1 = 0.0
    for i in 0..<nz {
      dot += Double(ends[i]) * Double(ends[nz + i])
      n0 += Double(ends[i] * ends[i]); n1 += Double(ends[nz + i] * ends[nz + i])
    }
    let omega = acos(max(-1, min(1, dot / max((n0 * n1).squareRoot(), 1e-30))))
    for s in 0..<steps {
      let t = Double(s) / Double(steps - 1)
      var w0 = 1 - t, w1 = t
      if slerp && sin(omega) > 1e-6 {
        w0 = sin((1 - t) * omega) / sin(omega)
        w1 = sin(t * omega) / sin(omega)
      }
      for i in 0..<nz { out[s * nz + i] = Float(w0 * Double(ends[i]) + w1 * Double(ends[nz + i])) }
    }
  }
}



// Usage errors exit with 64 (EX_USAGE), run-time failures with 1, each as one line on stderr.
do {
  if let command = try GanGen(arguments: Array(CommandLine.arguments.dropFirst())) {
    try command.validate()
    try command.run()
  }
} catch let e as Flags.UsageError {
  fputs("gan-gen: \(e.message) (see gan-gen --help)\n", stderr)
  exit(64)
} catch let e as GanGen.Failure {
  fputs("gan-gen: \(e.message)\n", stderr)
  exit(1)
} catch {
  fputs("gan-gen: \(error)\n", stderr)
  exit(1)
}
