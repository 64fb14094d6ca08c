// One SWD measurement as gan-train makes it every --swd-every iterations: 512 generated 32 px RGB
// images against a prepared reference of 512 held-out ones (128 patches each, 512 directions,
// 2 pyramid levels). Prints the reference's preparation and the median of `rounds` measurements.
// Usage: swd-probe [threads] [rounds] [size]
import GanModel
import GanTraining
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
let threads = args.count > 1 ? Int(args[1]) ?? 2 : 2
let rounds = args.count > 2 ? Int(args[2]) ?? 3 : 3
let size = args.count > 3 ? Int(args[3]) ?? 32 : 32
let count = 512

func seconds(_ body: () -> Void) -> Double {
  var a = timespec(), b = timespec()
  clock_gettime(CLOCK_MONOTONIC, &a)
  body()
  clock_gettime(CLOCK_MONOTONIC, &b)
  return Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) * 1e-9
}

var rng = Philox4x32(seed: 11, stream: 3)
let real = (0..<(count * size * size * 3)).map { _ in UInt8(rng.nextInt(below: 256)) }
// "Generated" images: the real ones shifted by a random offset, clamped.
let fake = real.map { UInt8(min(255, Int($0) + rng.nextInt(below: 40))) }
var reference: SlicedWasserstein.Reference!
let prepare = seconds {
  real.withUnsafeBufferPointer {
    reference = SlicedWasserstein.Reference(images: $0.baseAddress!, count: count, size: size, channels: 3)
  }
}
reference.threads = threads
var times: [Double] = [], result = (levels: [Double](), mean: 0.0)
for _ in 0..<rounds {
  times.append(seconds { result = fake.withUnsafeBufferPointer { reference.distance(to: $0.baseAddress!) } })
}
let median = times.sorted()[times.count / 2]
print("swd-probe: \(count) images at \(size) px, \(threads) threads: reference \(Int(prepare * 1000)) ms, "
  + "measurement median \(Int(median * 1000)) ms of \(rounds) (\(times.map { Int($0 * 1000) }) ms)")
print("levels x1e3: \(result.levels.map { String($0) }.joined(separator: " / ")), mean \(result.mean)")
