// What the probes share: their positional integer arguments, the clock, medians, and input buffers.
#if canImport(Glibc)
import Glibc
#endif

/// Positional argument `index` (1-based) as a positive integer, or `fallback` when it is absent;
/// anything else is a usage error naming the argument.
public func positionalInt(_ index: Int, name: String, default fallback: Int) -> Int {
  let args = CommandLine.arguments
  guard args.count > index else { return fallback }
  guard let v = Int(args[index]), v > 0 else {
    fputs("\(args[0]): \(name) (argument \(index)) must be a positive integer, not '\(args[index])'\n", stderr)
    exit(64)
  }
  return v
}

/// Wall-clock seconds of one call (CLOCK_MONOTONIC).
public func seconds(_ body: () -> Void) -> Double {
  var a = timespec(), b = timespec()
  clock_gettime(CLOCK_MONOTONIC, &a)
  body()
  clock_gettime(CLOCK_MONOTONIC, &b)
  return Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) * 1e-9
}

public func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

/// The median of `repeats` timed calls after `warmup` untimed ones.
public func medianSeconds(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> Double {
  for _ in 0..<warmup { body() }
  return median((0..<repeats).map { _ in seconds(body) })
}

/// n floats in [-0.5, 0.5), 64-byte aligned, a fixed pattern (never freed: probes run once).
public func probeBuffer(_ n: Int) -> UnsafeMutablePointer<Float> {
  let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 16) * 4, alignment: 64).bindMemory(to: Float.self,
                                                                                            capacity: n)
  for i in 0..<n { p[i] = Float((i * 7919) % 1000) * 1e-3 - 0.5 }
  return p
}
