import ArgumentParser
import GanImage
import GanKernels
import GanModel
import GanRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gan-gen: generate images from a DCGAN generator. Links no Foundation (it runs on boards).
struct GanGen: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gan-gen",
    abstract: "Generate images with a DCGAN generator: fp32 safetensors from gan-train or PyTorch, or an int8 file from gan-quant.",
    discussion: """
    Image i of seed s comes from latent(s, i), a pure function of (s, i): the same image whatever \
    --batch, --first-index or --threads. Output is bitwise identical for any thread count and batch.
    Examples:
      gan-gen --model out/generator.safetensors --count 64 --grid 8 --out grid.png
      gan-gen --model g.safetensors --latents z.npy --save-raw x.npy --out pngs
      gan-gen --model g.safetensors --interpolate slerp --steps 10 --grid 10 --out walk.png
      gan-gen --model g.safetensors --bench --batch 1
    """)

  @Option(help: "Generator safetensors: gan-train's generator.safetensors, a PyTorch DCGAN state_dict (main.N. or N. names), or gan-quant's int8 file.")
  var model: String

  @Option(help: "Number of images.")
  var count: Int = 64

  @Option(help: "Seed of the latents.")
  var seed: UInt64 = 0

  @Option(help: "Index of the first image (image i of seed s is the same in any batch).")
  var firstIndex: Int = 0

  @Option(help: "Images per generator call (default: min(count, 64)); memory is planned for this size.")
  var batch: Int?

  @Option(help: "Compute threads (default: all cores). Output does not depend on it.")
  var threads: Int?

  @Option(help: "Output: a folder of PNGs (image_NNNNNN.png), or with --grid the grid PNG's path. Default: samples (or samples.png with --grid).")
  var out: String?

  @Option(help: "Write one grid PNG with this many columns instead of one PNG per image.")
  var grid: Int?

  @Option(help: "Latents from a float32 .npy of shape (N, nz) or (N, nz, 1, 1) instead of the seed (sets --count to N).")
  var latents: String?

  @Option(help: "Also save the raw outputs as a float32 .npy of shape (N, C, H, W) in [-1, 1] (PyTorch's layout).")
  var saveRaw: String?

  @Option(help: "Interpolate between two latents, 'linear' or 'slerp': images --from and --to of --seed (or the first two --latents rows), --steps images.")
  var interpolate: String?

  @Option(help: "Interpolation start image index (default: --first-index).")
  var from: Int?

  @Option(help: "Interpolation end image index (default: start + 1).")
  var to: Int?

  @Option(help: "Interpolation steps, both ends included.")
  var steps: Int = 8

  @Flag(help: "Benchmark: warm up, then time --count images in calls of --batch; print latency percentiles and img/s. Writes no images.")
  var bench = false

  @Flag(help: "Run the deconvolution layers as Winograd F(2x2, 2x2): faster at larger batches (about 1.4-1.8x per layer at batch 64), slower at batch 1. Output stays identical across --threads and --batch for a given setting, and differs from the default by about 1e-6.")
  var winograd = false

  func validate() throws {
    guard count > 0 else { throw ValidationError("--count must be positive") }
    if let b = batch, b < 1 { throw ValidationError("--batch must be at least 1") }
    if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    if let g = grid, g < 1 { throw ValidationError("--grid must be at least 1") }
    if let m = interpolate, m != "linear" && m != "slerp" { throw ValidationError("--interpolate must be 'linear' or 'slerp'") }
    guard steps >= 2 else { throw ValidationError("--steps must be at least 2") }
  }

  func fail(_ message: String) -> ExitCode {
    fputs("gan-gen: \(message)\n", stderr)
    return ExitCode(1)
  }

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
      } catch let e as ExitCode { throw e } catch { throw fail("\(error)") }
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

GanGen.main()
