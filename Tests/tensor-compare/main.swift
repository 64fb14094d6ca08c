// Compares two safetensors files tensor by tensor (tools/test-mpi.sh: N ranks against one
// process). Usage: tensor-compare A B [tolerance] [NAME=LIMIT ...], or
// tensor-compare --integer NAME FILE to print an integer tensor (a checkpoint's state.iteration).
// Every float tensor of A must be in B with the same shape; integer tensors must be equal. Prints
// the worst relative error (max |a - b| / max |a| per tensor) and its tensor; exits 1 when it is
// above `tolerance` (default 0: bitwise equal). NAME=LIMIT: tensors whose name contains NAME are
// held to an absolute limit instead (attention.key.bias: a gradient that is 0 up to rounding).
import GanModel
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
if args.count == 4 && args[1] == "--integer" {
  do {
    print(try SafeTensorsFile(path: args[3]).integers(args[2]).map { String($0) }.joined(separator: " "))
    exit(0)
  } catch {
    fputs("tensor-compare: \(error)\n", stderr)
    exit(1)
  }
}
guard args.count >= 3 else {
  fputs("usage: tensor-compare A.safetensors B.safetensors [tolerance] [NAME=LIMIT ...]\n", stderr)
  exit(64)
}
let tolerance = args.count > 3 ? Float(args[3]) ?? -1 : 0
guard tolerance >= 0 else { fputs("tensor-compare: tolerance '\(args[3])' is not a number\n", stderr); exit(64) }
var absolute: [(String, Float)] = []
for a in args.dropFirst(4) {
  let parts = a.split(separator: "=")
  guard parts.count == 2, let limit = Float(parts[1]) else { fputs("tensor-compare: bad NAME=LIMIT '\(a)'\n", stderr); exit(64) }
  absolute.append((String(parts[0]), limit))
}
do {
  let a = try SafeTensorsFile(path: args[1]), b = try SafeTensorsFile(path: args[2])
  var worst: (Float, String) = (0, "-"), failures = 0, count = 0
  for e in a.entries {
    guard let f = b.entry(e.name), f.shape == e.shape, f.dtype == e.dtype else {
      print("\(e.name): missing or of another shape in \(args[2])"); failures += 1; continue
    }
    count += 1
    if e.dtype != .F32 {
      if try a.integers(e.name) != b.integers(e.name) { print("\(e.name): integers differ"); failures += 1 }
      continue
    }
    let x = try a.floats(e.name), y = try b.floats(e.name)
    var d: Float = 0, m: Float = 0
    for i in 0..<x.count { d = max(d, abs(x[i] - y[i])); m = max(m, abs(x[i])) }
    if let (_, limit) = absolute.first(where: { e.name.contains($0.0) }) {
      if d > limit { print("\(e.name): max abs difference \(d) > \(limit)"); failures += 1 }
      continue
    }
    let r = d / max(m, 1e-30)
    if r > worst.0 { worst = (r, e.name) }
    if r > tolerance { failures += 1 }
  }
  print("\(count) tensors, worst relative error \(worst.0) (\(worst.1)), \(failures) over the limits")
  exit(failures == 0 ? 0 : 1)
} catch {
  fputs("tensor-compare: \(error)\n", stderr)
  exit(1)
}
