// gan-train's passes with and without Winograd, in place: a DCGAN-64 (nc 3, ngf = ndf = 64,
// batch 64) Trainer built twice on the same weights, each pass timed on both alternately (median
// over repeats, then over rounds), and the whole Trainer.step. "+ transform" rows mark the
// parameters modified first, so the pass re-derives its Winograd weights as after an optimizer
// step; then Trainer.step's sequence section by section, and consecutive steps (the machine's
// noise shows there: single steps move by 30%). Usage: train-probe [threads] [rounds] [repeats] [size]
// (size: 32, 64 or 128 px, default 64; the model is DCGAN-<size> with nz 100, ngf = ndf = 64, nc 3)
import GanKernels
import GanModel
import GanTraining
import ProbeSupport
#if canImport(Glibc)
import Glibc
#endif

let threads = positionalInt(1, name: "threads", default: Kernels.defaultThreads)
let rounds = positionalInt(2, name: "rounds", default: 3)
let repeats = positionalInt(3, name: "repeats", default: 7)
let size = positionalInt(4, name: "size", default: 64)
guard [32, 64, 128].contains(size) else {
  fputs("train-probe: size (argument 4) must be 32, 64 or 128, not \(size)\n", stderr)
  exit(64)
}

func ms(_ x: Double) -> String { String(Int((x * 1e4).rounded())).withDecimal(1) }
extension String {
  func withDecimal(_ d: Int) -> String {
    var s = self
    while s.count <= d { s = "0" + s }
    s.insert(".", at: s.index(s.endIndex, offsetBy: -d))
    return s
  }
}

let arch = try! Architecture(imageSize: size, nz: 100, ngf: 64, ndf: 64, nc: 3)
var trainers: [GANTrainer] = []
for winograd in [false, true] {
  var c = TrainingConfiguration(architecture: arch)
  c.batchSize = 64; c.threads = threads; c.seed = 1; c.winograd = winograd
  let t = GANTrainer(configuration: c)
  t.initializeWeights()
  for i in 0..<(64 * size * size * 3) { t.realBatch[i] = Float((i * 7919) % 2001) / 1000 - 1 }
  for i in 0..<(64 * 100) { t.generator.input[i] = Float((i * 613) % 201) / 100 - 1 }
  t.step()
  trainers.append(t)
}

struct Pass { let name: String; let run: (GANTrainer) -> Void }
let passes: [Pass] = [
  Pass(name: "G forward") { $0.generator.forward(mode: .train) },
  Pass(name: "G forward + transform") { $0.generator.parameters.markModified(); $0.generator.forward(mode: .train) },
  Pass(name: "G backward") { $0.generator.backward() },
  Pass(name: "D forward") { $0.discriminator.forward($0.realBatch) },
  Pass(name: "D forward + transform") { $0.discriminator.parameters.markModified(); $0.discriminator.forward($0.realBatch) },
  Pass(name: "D backward (weights)") { $0.discriminator.backward(weightGradients: true) },
  Pass(name: "D backward (input)") { $0.discriminator.backward(weightGradients: false, inputGradient: true) },
  Pass(name: "Trainer.step") { $0.step() },
]
print("train-probe: DCGAN-\(size) batch 64, \(threads) threads, \(rounds) rounds x median of \(repeats); GEMM \(Kernels.selectedGemmVariant.name)")
print("| pass | direct ms | --winograd ms | speedup |")
print("|---|---|---|---|")
for p in passes {
  var d: [Double] = [], w: [Double] = []
  for _ in 0..<rounds {
    for (i, t) in trainers.enumerated() {
      // A backward reads its forward's activations: one forward, then the backward timed alone.
      if p.name.hasPrefix("D backward") { t.discriminator.forward(t.realBatch) }
      if p.name == "G backward" { t.generator.forward(mode: .train) }
      var v: [Double] = []
      for _ in 0..<repeats { v.append(seconds { p.run(t) }) }
      if i == 0 { d.append(median(v)) } else { w.append(median(v)) }
    }
  }
  let dm = median(d), wm = median(w)
  print("| \(p.name) | \(ms(dm)) | \(ms(wm)) | \(String(Int((dm / wm * 100).rounded())).withDecimal(2))x |")
  fflush(stdout)
}

// Trainer.step's sequence, section by section (the same calls; losses left out).
print("")
print("| step section | direct ms | --winograd ms |")
print("|---|---|---|")
let sections = ["D forward real", "D backward", "G forward", "D forward fake", "D backward", "D adam",
                "D forward fake (new D)", "D backward (input)", "G backward", "G adam", "Trainer.step (whole)"]
var times = [[[Double]]](repeating: [[Double]](repeating: [], count: sections.count), count: 2)
for _ in 0..<(rounds * repeats) {
  for (i, t) in trainers.enumerated() {
    let D = t.discriminator, G = t.generator
    var k = 0
    func time(_ body: () -> Void) { times[i][k].append(seconds(body)); k += 1 }
    time { D.forward(t.realBatch) }
    for j in 0..<64 { D.logitGradient[j] = -0.01 }
    time { D.backward(weightGradients: true, accumulate: false, inputGradient: false) }
    time { G.forward(mode: .train) }
    time { D.forward(G.output) }
    for j in 0..<64 { D.logitGradient[j] = 0.01 }
    time { D.backward(weightGradients: true, accumulate: true, inputGradient: false) }
    time { D.parameters.adamStep(lr: 2e-4, beta1: 0.5) }
    time { D.forward(G.output) }
    for j in 0..<64 { D.logitGradient[j] = -0.01 }
    time { D.backward(weightGradients: false, accumulate: false, inputGradient: true) }
    G.outputGradient.update(from: D.inputGradient, count: G.outputCount)
    time { G.backward(accumulate: false) }
    time { G.parameters.adamStep(lr: 2e-4, beta1: 0.5) }
    time { t.step() }
  }
}
var totals = [0.0, 0.0]
for (k, name) in sections.enumerated() {
  let d = median(times[0][k]), w = median(times[1][k])
  if k < sections.count - 1 { totals[0] += d; totals[1] += w }
  print("| \(name) | \(ms(d)) | \(ms(w)) |")
}
print("| sum of the sections' medians | \(ms(totals[0])) | \(ms(totals[1])) |")

// Consecutive steps on one trainer (as gan-train runs them), per-step seconds.
for round in 0..<rounds {
  for (i, t) in trainers.enumerated() {
    let v = (0..<repeats).map { _ in seconds { t.step() } }
    print("round \(round) \(i == 0 ? "direct" : "winograd") consecutive steps ms: \(v.map { ms($0) }.joined(separator: " "))")
  }
}
