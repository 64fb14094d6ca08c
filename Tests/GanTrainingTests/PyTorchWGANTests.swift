import XCTest
import GanKernels
import GanModel
import GanTestSupport
import GanTraining

/// WGAN-GP against PyTorch (tools/wgan_reference.py): the gradient penalty's exact double
/// backward through every critic layer (a conditional SAGAN critic with spectral norm, attention
/// at gamma 0.5 and the projection head; the DCGAN critic without BatchNorm) against autograd's,
/// and three WGAN-GP training steps of each model from PyTorch-made weights, batches, latents,
/// labels and mixing weights.
final class PyTorchWGANTests: XCTestCase {
  func relative(_ got: Double, _ want: Double) -> Double { abs(got - want) / max(abs(want), 1e-12) }

  func architecture(_ kind: String) throws -> Architecture {
    kind == "sagan"
      ? try Architecture(imageSize: 32, nz: 8, ngf: 8, ndf: 8, nc: 3, family: .sagan, classes: 3, attentionAt: 16)
      : try Architecture(imageSize: 32, nz: 8, ngf: 8, ndf: 8, nc: 3, discriminatorBatchNorm: false)
  }

  func nhwcBatches(_ values: [Float], batches: Int, batch: Int, arch a: Architecture) -> [[Float]] {
    let per = batch * a.nc * a.imageSize * a.imageSize
    return (0..<batches).map { b in
      nchwToNHWC(Array(values[(b * per)..<((b + 1) * per)]), n: batch, c: a.nc, h: a.imageSize, w: a.imageSize)
    }
  }

  /// lambda * penalty and its gradient with respect to every critic parameter, from one
  /// training-mode forward on the mixes.
  func testPenaltyGradientMatchesAutograd() throws {
    let f = try Fixtures.open("wgan_penalty.safetensors")
    for kind in ["sagan", "dcgan"] {
      let a = try architecture(kind)
      for threads in [1, 2] {
        let D = Discriminator(architecture: a, batch: 4, threads: threads, gradientPenalty: true)
        try D.parameters.load(from: f, prefix: "\(kind).D.")
        let real = nhwcBatches(try f.floats("\(kind).real"), batches: 1, batch: 4, arch: a)[0]
        let fake = nhwcBatches(try f.floats("\(kind).fake"), batches: 1, batch: 4, arch: a)[0]
        let alpha = try f.floats("\(kind).alpha")
        var mixes = [Float](repeating: 0, count: real.count)
        WassersteinPasses.mix(samples: 4, per: real.count / 4, a: alpha, x: real, y: fake, out: &mixes)
        if a.isConditional { for (i, y) in try f.floats("\(kind).labels").enumerated() { D.labels[i] = Int32(y) } }
        D.parameters.zeroGradients()
        let penalty = mixes.withUnsafeBufferPointer { D.penaltyBackward($0.baseAddress!, lambda: 10) }
        let want = Double(try f.floats("\(kind).penalty")[0])
        XCTAssertLessThanOrEqual(relative(penalty, want), 1e-5, "\(kind) penalty \(penalty) vs \(want)")
        var worst: (Float, String) = (0, "")
        for s in D.parameters.spec.parameters {
          let got = D.parameters.torchGradient(s.name), want = try f.floats("\(kind).grad.\(s.name)")
          if s.name == "attention.key.bias" || s.name == "attention.value.bias" {
            // The first backward does not depend on these: the key bias and the value bias shift
            // each row of the scores and of dA by a constant, which the softmax and its backward
            // cancel. Their penalty gradients are 0 up to rounding (PyTorch's about 3e-10, against
            // 5e-3 for the query bias).
            for k in 0..<got.count {
              XCTAssert(abs(got[k]) <= 1e-7 && abs(want[k]) <= 1e-7, "\(kind) \(s.name): \(got[k]) vs \(want[k])")
            }
            continue
          }
          let e = relativeInfError(got, want)
          if e > worst.0 { worst = (e, s.name) }
          XCTAssertLessThanOrEqual(e, 1e-4, "\(kind) d(penalty)/d(\(s.name)): relative error \(e)")
        }
        print("fixture wgan_penalty \(kind) (\(threads) threads): penalty \(penalty) vs PyTorch \(want) (relative " +
              "\(relative(penalty, want))); worst parameter gradient relative error \(worst.0) (\(worst.1))")
      }
    }
  }

  /// Three WGAN-GP iterations: losses (with the penalty) within 1e-4 relative, weights within 1e-3.
  func check(_ name: String, threads: Int) throws {
    let f = try Fixtures.open(name)
    let cfg = try f.stepConfiguration(loss: .wganGP, threads: threads)
    let a = cfg.architecture, batch = cfg.batchSize
    let t = GANTrainer(configuration: cfg)
    t.initializeWeights()
    try t.loadWeights(from: f)
    let reals = nhwcBatches(try f.floats("real"), batches: 3, batch: batch, arch: a)
    let noise = try f.floats("noise"), labels = try f.floats("labels"), alpha = try f.floats("alpha")
    let stats = try f.floats("stats")
    var worstStat = 0.0
    for step in 0..<3 {
      t.realBatch.update(from: reals[step], count: reals[step].count)
      for i in 0..<batch { t.labels[i] = Int32(labels[step * batch + i]); t.mixingWeights[i] = alpha[step * batch + i] }
      for i in 0..<(batch * a.nz) { t.generator.input[i] = noise[step * batch * a.nz + i] }
      let s = t.step()
      let want = (0..<6).map { Double(stats[step * 6 + $0]) }
      for (k, (got, label)) in [(s.lossD, "L_D"), (s.lossG, "L_G"), (s.dx, "D(x)"), (s.dgz1, "D(G(z)) before"),
                                 (s.dgz2, "D(G(z)) after"), (t.lastPenalty, "penalty")].enumerated() {
        let e = relative(got, want[k])
        worstStat = max(worstStat, e)
        XCTAssert(e <= 1e-4, "\(name) step \(step + 1) \(label): \(got) vs PyTorch \(want[k]) (relative \(e))")
      }
    }
    let worst = try assertWeightsMatch(t, f, "\(name) after 3 steps")
    print("fixture \(name) (\(threads) threads): worst relative error of the losses over 3 steps \(worstStat); " +
          "of the weights after 3 steps \(worst.0) (\(worst.1))")
  }

  func testConditionalSAGANWGANGPMatchesPyTorch() throws {
    try check("wgan3-sagan32.safetensors", threads: 1)
    try check("wgan3-sagan32.safetensors", threads: 2)
  }

  func testDCGANCriticWithoutBatchNormWGANGPMatchesPyTorch() throws { try check("wgan3-dcgan32.safetensors", threads: 2) }
}
