import CGanSystem
import GanModel

/// Times `generate`: about a second of warm-up (at least 3 calls), then `calls` timed calls of
/// `batch` images, each on the next latents of the source.
public struct GeneratorBenchmark {
  public let batch: Int
  public let warmupCalls: Int
  /// Seconds per call, sorted.
  public let times: [Double]

  public init(_ generator: ImageGenerator, latents: LatentSource, batch: Int) {
    let a = generator.architecture, total = latents.count
    let out = UnsafeMutablePointer<Float>.allocate(capacity: batch * generator.imageElements)
    let px = UnsafeMutablePointer<UInt8>.allocate(capacity: batch * generator.imageElements)
    // One batch of latents, refilled (untimed) before each call: memory does not grow with --count.
    let z = UnsafeMutablePointer<Float>.allocate(capacity: batch * a.nz)
    defer { out.deallocate(); px.deallocate(); z.deallocate() }
    latents.fill(first: 0, count: batch, nz: a.nz, into: z)
    let w0 = gs_monotonic_seconds()
    var calls = 0
    while calls < 3 || gs_monotonic_seconds() - w0 < 1 {
      generator.generate(latents: z, count: batch, output: out, pixels: px)
      calls += 1
    }
    let reps = max(5, min((total + batch - 1) / batch, GeneratorBenchmark.maxCalls))
    var t: [Double] = []
    t.reserveCapacity(reps)
    for r in 0..<reps {
      latents.fill(first: (r * batch) % max(1, total - batch + 1), count: batch, nz: a.nz, into: z)
      let t0 = gs_monotonic_seconds()
      generator.generate(latents: z, count: batch, output: out, pixels: px)
      t.append(gs_monotonic_seconds() - t0)
    }
    self.batch = batch
    warmupCalls = calls
    times = t.sorted()
  }

  /// Timed calls at most (an absurd --count still ends).
  public static let maxCalls = 10_000

  /// Milliseconds at percentile p in [0, 1].
  public func percentileMilliseconds(_ p: Double) -> Double { times[min(times.count - 1,
                                                                        Int(Double(times.count - 1) * p + 0.5))] * 1e3 }
  public var medianImagesPerSecond: Double { Double(batch) / times[times.count / 2] }
  public var meanImagesPerSecond: Double { Double(batch) / (times.reduce(0, +) / Double(times.count)) }
}
