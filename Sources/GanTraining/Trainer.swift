import GanKernels
import GanModel

/// The adversarial loss.
public enum GANLoss: String, Sendable, Equatable, CaseIterable {
  /// BCE-with-logits, G with the non-saturating loss (pytorch/examples dcgan).
  case bce
  /// L_D = E[relu(1 - D(x, y))] + E[relu(1 + D(G(z, y), y))], L_G = -E[D(G(z, y), y)].
  case hinge
  /// WGAN-GP (Gulrajani et al. 2017): L_D = E[D(G(z))] - E[D(x)] + lambda E[(||grad D(xhat)|| - 1)^2],
  /// xhat = a x + (1 - a) G(z), a ~ U(0, 1) per sample; L_G = -E[D(G(z))]. The critic has no BatchNorm.
  case wganGP = "wgan-gp"
  /// The original WGAN: L_D = E[D(G(z))] - E[D(x)], every critic parameter clipped to
  /// [-clip, clip] after each critic step; L_G = -E[D(G(z))].
  case wasserstein
}

/// Hyperparameters of a run (pytorch/examples dcgan defaults).
public struct TrainingConfiguration: Sendable, Equatable {
  public var architecture: Architecture
  public var batchSize: Int = 64
  public var learningRate: Float = 2e-4
  /// Per-network learning rates (TTUR: G 1e-4, D 4e-4 in the SAGAN paper); nil: `learningRate`.
  public var generatorLearningRate: Float?
  public var discriminatorLearningRate: Float?
  public var beta1: Float = 0.5
  public var beta2: Float = 0.999
  public var loss: GANLoss = .bce
  /// D steps per G step; each takes the next real batch and new latents.
  public var criticSteps: Int = 1
  /// WGAN-GP's penalty weight lambda.
  public var gradientPenaltyWeight: Float = 10
  /// WGAN's weight clipping bound.
  public var clip: Float = 0.01
  public var seed: UInt64 = 0
  public var threads: Int = 1
  public var shuffle: Bool = true
  /// Winograd kernels where `AlgorithmPolicy`'s training tables pick them (G's hidden
  /// deconvolutions and D's convolutions, forward with BatchNorm statistics; D's backward-data);
  /// changes results within rounding (~1e-6 relative per layer), never with the thread count.
  /// DCGAN only (spectral norm changes the weights at every forward).
  public var winograd: Bool = false

  public init(architecture: Architecture) { self.architecture = architecture }

  public var lrG: Float { generatorLearningRate ?? learningRate }
  public var lrD: Float { discriminatorLearningRate ?? learningRate }
}

/// The numbers pytorch/examples prints per iteration.
public struct StepStatistics: Sendable, Equatable {
  public var lossD: Double
  public var lossG: Double
  /// Mean D(x) over the real batch, D(G(z)) before and after the D update.
  public var dx: Double
  public var dgz1: Double
  public var dgz2: Double
  public var isFinite: Bool { lossD.isFinite && lossG.isFinite }
}

public enum TrainingError: Error, CustomStringConvertible {
  case nonFiniteLoss(iteration: Int, StepStatistics)
  case invalidCheckpoint(String)

  public var description: String {
    switch self {
    case .nonFiniteLoss(let it, let s):
      return "non-finite loss at iteration \(it) (Loss_D \(s.lossD), Loss_G \(s.lossG)); training stopped, the last " +
             "good checkpoint is kept"
    case .invalidCheckpoint(let r): return r
    }
  }
}

/// Counter-based randomness of a run: every draw is a pure function of (seed, purpose, index), so
/// a resumed run sees exactly the latents and data order an uninterrupted one would. Each purpose
/// has its own Philox stream range, listed here and nowhere else: purpose k owns streams
/// [k << 40, (k + 1) << 40), indexed by iteration, epoch, pass or batch.
public struct RunRandomness: Sendable {
  public let seed: UInt64
  public init(seed: UInt64) { self.seed = seed }

  static let noiseStream: UInt64 = 1 << 40
  static let orderStream: UInt64 = 2 << 40
  static let fixedNoiseStream: UInt64 = 3 << 40
  static let reestimateStream: UInt64 = 4 << 40
  static let swdStream: UInt64 = 5 << 40
  static let weightInitStream: UInt64 = 6 << 40
  static let reestimateLabelStream: UInt64 = 7 << 40
  static let mixingStream: UInt64 = 8 << 40
  /// Every stream base, for the test that they are distinct.
  public static let streamBases: [UInt64] = [noiseStream, orderStream, fixedNoiseStream, reestimateStream, swdStream,
                                             weightInitStream, reestimateLabelStream, mixingStream]

  /// WGAN-GP's mixing weights of batch b (the batch index, as the latents'), count values in (0, 1].
  public func mixingWeights(batch b: Int, into out: UnsafeMutablePointer<Float>, count: Int) {
    var r = Philox4x32(seed: seed, stream: RunRandomness.mixingStream + UInt64(b))
    r.fillUniform(UnsafeMutableBufferPointer(start: out, count: count))
  }

  /// The generator of the initial weights (G's, then D's, drawn in order from one stream).
  public func weightInitialization() -> Philox4x32 {
    Philox4x32(seed: seed, stream: RunRandomness.weightInitStream)
  }

  /// Latents of the SWD samples, batch b: the same at every measurement.
  public func swdNoise(batch b: Int, into out: UnsafeMutablePointer<Float>, count: Int) {
    var r = Philox4x32(seed: seed, stream: RunRandomness.swdStream + UInt64(b))
    r.fillNormal(UnsafeMutableBufferPointer(start: out, count: count))
  }

  /// Training latents of iteration t (0-based), count floats.
  public func noise(iteration t: Int, into out: UnsafeMutablePointer<Float>, count: Int) {
    var r = Philox4x32(seed: seed, stream: RunRandomness.noiseStream + UInt64(t))
    r.fillNormal(UnsafeMutableBufferPointer(start: out, count: count))
  }

  public func fixedNoise(into out: UnsafeMutablePointer<Float>, count: Int) {
    var r = Philox4x32(seed: seed, stream: RunRandomness.fixedNoiseStream)
    r.fillNormal(UnsafeMutableBufferPointer(start: out, count: count))
  }

  public func reestimationNoise(pass p: Int, into out: UnsafeMutablePointer<Float>, count: Int) {
    var r = Philox4x32(seed: seed, stream: RunRandomness.reestimateStream + UInt64(p))
    r.fillNormal(UnsafeMutableBufferPointer(start: out, count: count))
  }

  /// Classes drawn uniformly from 0 ..< classes for re-estimation pass p (conditional models).
  public func reestimationLabels(pass p: Int, into out: UnsafeMutablePointer<Int32>, count: Int, classes: Int) {
    var r = Philox4x32(seed: seed, stream: RunRandomness.reestimateLabelStream + UInt64(p))
    for i in 0..<count { out[i] = Int32(r.nextInt(below: classes)) }
  }

  /// The order of `count` examples in epoch e (Fisher-Yates), or the identity when not shuffling.
  public func order(epoch e: Int, count: Int, shuffle: Bool) -> [Int] {
    var idx = Array(0..<count)
    guard shuffle else { return idx }
    var r = Philox4x32(seed: seed, stream: RunRandomness.orderStream + UInt64(e))
    for i in stride(from: count - 1, to: 0, by: -1) {
      idx.swapAt(i, r.nextInt(below: i + 1))
    }
    return idx
  }
}

/// G and D with their optimizers: one training iteration as pytorch/examples runs it (BCE) or as
/// tools/sagan_reference.py does (hinge, conditional, `criticSteps` D steps), over preallocated
/// buffers (a step allocates nothing).
///
/// Data parallel (a communicator of N ranks): each rank holds batchSize / N of the batch; the
/// losses' gradients are scaled to the whole batch, BatchNorm is synchronized, and each network's
/// gradient buffer is summed over the ranks (one reduction) before Adam, so N ranks take the step
/// one process takes with the whole batch.
public final class GANTrainer {
  public let configuration: TrainingConfiguration
  public let communicator: Communicator
  public let generator: Generator
  public let discriminator: Discriminator
  /// This rank's images per step: batchSize / ranks.
  public let localBatch: Int
  /// Real images (localBatch, S, S, nc) in [-1, 1]: fill before each D step.
  public let realBatch: UnsafeMutablePointer<Float>
  /// The real images' classes (localBatch): fill with the batch (conditional models); the fakes take them.
  public let labels: UnsafeMutablePointer<Int32>
  /// WGAN-GP: each sample's mixing weight a in [0, 1] (localBatch): fill before each D step.
  public let mixingWeights: UnsafeMutablePointer<Float>
  /// WGAN-GP: the mixes a x + (1 - a) G(z).
  private let mixes: UnsafeMutablePointer<Float>
  /// WGAN-GP: the last D step's penalty (lambda times the batch's mean).
  public private(set) var lastPenalty = 0.0
  /// Steps completed.
  public var iteration = 0
  private let arena: Arena
  /// The step's statistics, summed over the ranks in one reduction.
  private let statistics: UnsafeMutablePointer<Double>

  /// batchSize must be a multiple of the communicator's ranks.
  public init(configuration c: TrainingConfiguration, communicator: Communicator = .single) {
    precondition(c.batchSize % communicator.size == 0, "batch \(c.batchSize) is not a multiple of \(communicator.size) ranks")
    configuration = c
    self.communicator = communicator
    let a = c.architecture, b = c.batchSize / communicator.size
    localBatch = b
    let comm = communicator.size > 1 ? communicator : nil
    generator = Generator(architecture: a, batch: b, threads: c.threads, winograd: c.winograd, communicator: comm)
    let penalty = c.loss == .wganGP
    precondition(!penalty || !a.discriminatorBatchNorm, "WGAN-GP needs a critic without BatchNorm")
    discriminator = Discriminator(architecture: a, batch: b, threads: c.threads, winograd: c.winograd,
                                  communicator: comm, gradientPenalty: penalty)
    let n = b * a.imageSize * a.imageSize * a.nc
    (arena, (realBatch, labels, statistics, mixingWeights, mixes)) = Arena.build {
      ($0.floats(n), $0.raw(4 * b).bindMemory(to: Int32.self, capacity: b), $0.doubles(5), $0.floats(b),
       $0.floats(penalty ? n : 0))
    }
  }

  /// The losses' gradient scale: this rank's share of the whole batch.
  private var share: Float { Float(localBatch) / Float(configuration.batchSize) }

  /// Initialization of both networks as their specs say (DCGAN: weights N(0, 0.02), BN gamma
  /// N(1, 0.02); SAGAN: tools/sagan_reference.py's), G first, from the seed's weight stream.
  public func initializeWeights() {
    var rng = RunRandomness(seed: configuration.seed).weightInitialization()
    generator.parameters.initialize(rng: &rng)
    discriminator.parameters.initialize(rng: &rng)
  }

  @inline(__always)
  private func meanSigmoid(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
    var s = 0.0
    for i in 0..<n { s += 1 / (1 + exp(-Double(p[i]))) }
    return s / Double(n)
  }

  /// D's loss on its logits against real (true) or fake: fills D's logit gradient; returns the
  /// loss and the batch's mean output (BCE: mean sigmoid, as pytorch/examples prints D(x); hinge:
  /// mean logit).
  private func discriminatorLoss(real: Bool) -> (loss: Double, output: Double) {
    let D = discriminator, B = localBatch
    switch configuration.loss {
    case .bce:
      let l = BCEWithLogits.loss(D.logits, count: B, target: real ? 1 : 0, gradient: D.logitGradient, gradScale: share)
      return (l, meanSigmoid(D.logits, B))
    case .hinge:
      let l = CriticLoss.hinge(D.logits, count: B, real: real, gradient: D.logitGradient, gradScale: share)
      return (l, CriticLoss.mean(D.logits, count: B, gradient: nil))
    case .wganGP, .wasserstein:
      // -E[D(x)] for the reals, E[D(G(z))] for the fakes.
      let m = CriticLoss.mean(D.logits, count: B, gradient: D.logitGradient, gradScale: real ? -share : share)
      return (real ? -m : m, m)
    }
  }

  /// G's loss on D's logits for the fakes (BCE non-saturating, hinge -E[D]).
  private func generatorLoss() -> (loss: Double, output: Double) {
    let D = discriminator, B = localBatch
    switch configuration.loss {
    case .bce:
      let l = BCEWithLogits.loss(D.logits, count: B, target: 1, gradient: D.logitGradient, gradScale: share)
      return (l, meanSigmoid(D.logits, B))
    case .hinge, .wganGP, .wasserstein:
      let m = CriticLoss.mean(D.logits, count: B, gradient: D.logitGradient, gradScale: -share)
      return (-m, m)
    }
  }

  /// One iteration with `realBatch`, `labels` and the latents already in `generator.input`
  /// (criticSteps must be 1).
  @discardableResult
  public func step() -> StepStatistics {
    precondition(configuration.criticSteps == 1, "step(): criticSteps \(configuration.criticSteps) needs step(fill:)")
    return step { _ in }
  }

  /// One iteration: `criticSteps` D steps, each after `fill(k)` has put the k-th real batch into
  /// `realBatch` and `labels`, its latents into `generator.input` (and for WGAN-GP its mixing
  /// weights into `mixingWeights`); then one G step on the last D step's fakes. A D step: G(z, y)
  /// in training mode, D on the real batch and on the fakes (detached) as two forwards with their
  /// own batch statistics, for WGAN-GP a third on the mixes with the penalty's double backward,
  /// Adam on D (WGAN: then the clipping). The G step: the fakes through the updated D, Adam on G.
  @discardableResult
  public func step(fill: (Int) -> Void) -> StepStatistics {
    let B = localBatch
    let D = discriminator, G = generator
    let c = configuration
    var errD = 0.0, dx = 0.0, dgz1 = 0.0
    for k in 0..<c.criticSteps {
      fill(k)
      if c.architecture.isConditional {
        G.labels.update(from: labels, count: B)
        D.labels.update(from: labels, count: B)
      }
      // D on real.
      D.forward(realBatch)
      let real = discriminatorLoss(real: true)
      D.backward(weightGradients: true, accumulate: false, inputGradient: false)
      // D on fake (G's output, detached).
      G.forward(mode: .train)
      D.forward(G.output)
      let fake = discriminatorLoss(real: false)
      D.backward(weightGradients: true, accumulate: true, inputGradient: false)
      var penalty = 0.0
      if c.loss == .wganGP {
        WassersteinPasses.mix(samples: B, per: G.outputCount / B, a: mixingWeights, x: realBatch, y: G.output, out: mixes)
        penalty = D.penaltyBackward(mixes, lambda: c.gradientPenaltyWeight, gradientScale: share)
        lastPenalty = penalty
      }
      communicator.sum(D.parameters.gradients, count: D.parameters.count)
      D.parameters.adamStep(lr: c.lrD, beta1: c.beta1, beta2: c.beta2)
      if c.loss == .wasserstein {
        WassersteinPasses.clamp(count: D.parameters.count, limit: c.clip, D.parameters.values)
        D.parameters.markModified()
      }
      (errD, dx, dgz1) = (real.loss + fake.loss + penalty, real.output, fake.output)
    }
    // G through the updated D.
    D.forward(G.output)
    let errG = generatorLoss()
    D.backward(weightGradients: false, accumulate: false, inputGradient: true)
    G.outputGradient.update(from: D.inputGradient, count: G.outputCount)
    G.backward(accumulate: false)
    communicator.sum(G.parameters.gradients, count: G.parameters.count)
    G.parameters.adamStep(lr: c.lrG, beta1: c.beta1, beta2: c.beta2)
    iteration += 1
    // Means over equal shares: the whole batch's means are the ranks' averages.
    (statistics[0], statistics[1], statistics[2], statistics[3], statistics[4]) = (errD, errG.loss, dx, dgz1, errG.output)
    communicator.sum(statistics, count: 5)
    let n = Double(communicator.size)
    return StepStatistics(lossD: statistics[0] / n, lossG: statistics[1] / n, dx: statistics[2] / n,
                          dgz1: statistics[3] / n, dgz2: statistics[4] / n)
  }

  // MARK: - Checkpoints

  /// Everything needed to continue exactly: G, D (PyTorch names, `G.`/`D.` prefixes), their Adam
  /// moments and step counts, the iteration, the seed and the current epoch's data order.
  public func checkpoint(extraMetadata: [(String, String)] = [], epochOrder: [Int] = [],
                         epoch: Int = 0) -> SafeTensorsWriter {
    var w = SafeTensorsWriter()
    w.metadata = [("gan.format", "swift-gan-checkpoint-1"), ("gan.arch",
                                                             configuration.architecture.json)] + extraMetadata
    for (prefix, p) in [("G.", generator.parameters), ("D.", discriminator.parameters)] {
      p.save(into: &w, prefix: prefix)
      for s in p.spec.parameters {
        for (kind, buf) in [("m", p.adamM), ("v", p.adamV)] {
          var out = [Float](repeating: 0, count: s.count)
          out.withUnsafeMutableBufferPointer { s.layout.toTorch(buf + s.offset, to: $0.baseAddress!) }
          w.add("\(prefix)adam.\(kind).\(s.name)", floats: out, shape: s.layout.torchShape)
        }
      }
      w.add("\(prefix)adam.step", int64: [Int64(p.adamStep)], shape: [1])
    }
    w.add("state.iteration", int64: [Int64(iteration)], shape: [1])
    w.add("state.epoch", int64: [Int64(epoch)], shape: [1])
    w.add("state.seed", int64: [Int64(bitPattern: configuration.seed)], shape: [1])
    w.add("state.batch_size", int64: [Int64(configuration.batchSize)], shape: [1])
    if !epochOrder.isEmpty { w.add("state.epoch_order", int64: epochOrder.map(Int64.init), shape: [epochOrder.count]) }
    return w
  }

  /// Loads G and D weights (and BN statistics) only, e.g. `--init`.
  public func loadWeights(from file: SafeTensorsFile) throws {
    try generator.parameters.load(from: file, prefix: "G.")
    try discriminator.parameters.load(from: file, prefix: "D.")
  }

  /// Restores a full checkpoint written by `checkpoint()`. Returns the stored epoch order.
  @discardableResult
  public func restore(from file: SafeTensorsFile) throws -> [Int] {
    if let arch = file.metadata["gan.arch"], try Architecture(json: arch) != configuration.architecture {
      throw TrainingError.invalidCheckpoint("\(file.path): architecture \(arch) differs from this run's " +
                                            "\(configuration.architecture.json)")
    }
    if let b = try? file.integers("state.batch_size").first, Int(b) != configuration.batchSize {
      throw TrainingError.invalidCheckpoint("\(file.path): written with batch size \(b), this run uses " +
                                            "\(configuration.batchSize)")
    }
    try loadWeights(from: file)
    for (prefix, p) in [("G.", generator.parameters), ("D.", discriminator.parameters)] {
      for s in p.spec.parameters {
        for (kind, buf) in [("m", p.adamM), ("v", p.adamV)] {
          let v = try file.floats("\(prefix)adam.\(kind).\(s.name)", shape: s.layout.torchShape)
          v.withUnsafeBufferPointer { s.layout.fromTorch($0.baseAddress!, to: buf + s.offset) }
        }
      }
      guard let step = try file.integers("\(prefix)adam.step").first else {
        throw TrainingError.invalidCheckpoint("\(file.path): empty \(prefix)adam.step")
      }
      p.adamStep = Int(step)
    }
    guard let it = try file.integers("state.iteration").first else {
      throw TrainingError.invalidCheckpoint("\(file.path): empty state.iteration")
    }
    iteration = Int(it)
    return file.entry("state.epoch_order") == nil ? [] : try file.integers("state.epoch_order").map { Int($0) }
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
