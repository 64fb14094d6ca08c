// One SWD measurement as gan-train makes it every --swd-every iterations: 512 generated 32 px RGB
// images against a prepared reference of 512 held-out ones (128 patches each, 512 directions,
// 2 pyramid levels). Prints the reference's preparation and the median of `rounds` measurements.
// Usage: swd-probe [threads] [rounds] [size]
import GanModel
import GanTraining
import ProbeSupport
#if canImport(Glibc)
import Glibc
#endif

let threads = positionalInt(1, name: "threads", default: 2)
let rounds = positionalInt(2, name: "rounds", default: 3)
let size = positionalInt(3, name: "image size", default: 32)
let count = 512

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
