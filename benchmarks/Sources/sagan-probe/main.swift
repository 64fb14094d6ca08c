// gan-train's SAGAN iteration in place: a class-conditional SAGAN (nz 100, ngf = ndf = 64, nc 3,
// 10 classes, attention at 16 px, hinge loss, TTUR, batch 64), GANTrainer.step timed as gan-train
// runs it (median of `repeats` consecutive steps per round, then the median over rounds), and
// the step's sections. Usage: sagan-probe [threads] [rounds] [repeats] [size] [conditional 0|1] [loss]
// (size 32 or 64; loss hinge or wgan-gp; the printed "| SAGAN step |" row is what
// benchmarks/peers/train_peers.py reads).
import GanKernels
import GanModel
import GanTraining
import ProbeSupport
#if canImport(Glibc)
import Glibc
#endif

let threads = positionalInt(1, name: "threads", default: Kernels.defaultThreads)
let rounds = positionalInt(2, name: "rounds", default: 3)
let repeats = positionalInt(3, name: "repeats", default: 5)
let size = positionalInt(4, name: "size", default: 32)
let conditional = CommandLine.arguments.count > 5 ? CommandLine.arguments[5] != "0" : true
let lossName = CommandLine.arguments.count > 6 ? CommandLine.arguments[6] : "hinge"
guard let loss = GANLoss(rawValue: lossName), loss == .hinge || loss == .wganGP else {
  fputs("sagan-probe: loss (argument 6) must be hinge or wgan-gp, not \(lossName)\n", stderr)
  exit(64)
}
guard [32, 64].contains(size) else {
  fputs("sagan-probe: size (argument 4) must be 32 or 64, not \(size)\n", stderr)
  exit(64)
}

let arch = try! Architecture(imageSize: size, nz: 100, ngf: 64, ndf: 64, nc: 3, family: .sagan,
                             classes: conditional ? 10 : 0, attentionAt: 16)
var c = TrainingConfiguration(architecture: arch)
c.batchSize = 64; c.threads = threads; c.seed = 1; c.loss = loss
(c.generatorLearningRate, c.discriminatorLearningRate, c.beta1, c.beta2) = (1e-4, 4e-4, 0, 0.9)
let t = GANTrainer(configuration: c)
t.initializeWeights()
for i in 0..<(64 * size * size * 3) { t.realBatch[i] = Float((i * 7919) % 2001) / 1000 - 1 }
for i in 0..<(64 * 100) { t.generator.input[i] = Float((i * 613) % 201) / 100 - 1 }
for i in 0..<64 { t.labels[i] = Int32(i % 10); t.mixingWeights[i] = Float(i % 7) / 7 }
t.step()

func ms(_ x: Double) -> String { String(Double(Int((x * 1e4).rounded())) / 10) }
print("sagan-probe: \(arch), \(loss.rawValue), batch 64, \(threads) threads, \(rounds) rounds x median of \(repeats); GEMM " +
      "\(Kernels.selectedGemmVariant.name)")
var steps: [Double] = []
for _ in 0..<rounds { steps.append(median((0..<repeats).map { _ in seconds { t.step() } })) }
print("| SAGAN step | \(ms(median(steps))) | rounds \(steps.map(ms).joined(separator: " ")) ms |")
fflush(stdout)

guard loss == .hinge else { exit(0) }
// The step's sequence, section by section (the same calls as GANTrainer.step; losses left out).
let sections = ["D forward real", "D backward", "G forward", "D forward fake", "D backward", "D adam",
                "D forward fake (new D)", "D backward (input)", "G backward", "G adam"]
var times = [[Double]](repeating: [], count: sections.count)
let D = t.discriminator, G = t.generator
for _ in 0..<(rounds * repeats) {
  var k = 0
  func time(_ body: () -> Void) { times[k].append(seconds(body)); k += 1 }
  G.labels.update(from: t.labels, count: 64)
  D.labels.update(from: t.labels, count: 64)
  time { D.forward(t.realBatch) }
  for j in 0..<64 { D.logitGradient[j] = -1.0 / 64 }
  time { D.backward(weightGradients: true, accumulate: false, inputGradient: false) }
  time { G.forward(mode: .train) }
  time { D.forward(G.output) }
  for j in 0..<64 { D.logitGradient[j] = 1.0 / 64 }
  time { D.backward(weightGradients: true, accumulate: true, inputGradient: false) }
  time { D.parameters.adamStep(lr: 4e-4, beta1: 0, beta2: 0.9) }
  time { D.forward(G.output) }
  for j in 0..<64 { D.logitGradient[j] = -1.0 / 64 }
  time { D.backward(weightGradients: false, accumulate: false, inputGradient: true) }
  G.outputGradient.update(from: D.inputGradient, count: G.outputCount)
  time { G.backward(accumulate: false) }
  time { G.parameters.adamStep(lr: 1e-4, beta1: 0, beta2: 0.9) }
}
print("| step section | ms |")
print("|---|---|")
var total = 0.0
for (k, name) in sections.enumerated() {
  total += median(times[k])
  print("| \(name) | \(ms(median(times[k]))) |")
}
print("| sum of the sections' medians | \(ms(total)) |")
