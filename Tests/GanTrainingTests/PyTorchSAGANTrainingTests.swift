import XCTest
import GanKernels
import GanModel
import GanTestSupport
import GanTraining

/// Three training iterations of the conditional SAGAN (hinge loss, attention in G and D, spectral
/// norm, conditional BatchNorm, projection head, TTUR, betas (0, 0.9)) from PyTorch-made weights,
/// batches, latents and labels (tools/sagan_reference.py) against PyTorch: per step the losses
/// and mean outputs within 1e-4 relative, then every parameter and buffer (spectral norm's u and
/// v, BatchNorm's running statistics) within 1e-3 relative.
final class PyTorchSAGANTrainingTests: XCTestCase {
  /// Relative error of a scalar.
  func relative(_ got: Double, _ want: Double) -> Double { abs(got - want) / max(abs(want), 1e-12) }

  func check(_ name: String, threads: Int) throws {
    let f = try Fixtures.open(name)
    let cfg = try f.stepConfiguration(loss: .hinge, threads: threads)
    let arch = cfg.architecture, batch = cfg.batchSize
    XCTAssert(arch.isSAGAN && arch.isConditional && arch.attentionAt == 16, "\(arch)")
    let t = GANTrainer(configuration: cfg)
    t.initializeWeights()
    try t.loadWeights(from: f)
    let real = try f.floats("real"), noise = try f.floats("noise"), labels = try f.floats("labels")
    let stats = try f.floats("stats")
    let per = arch.nc * arch.imageSize * arch.imageSize
    var worstStat = 0.0
    for step in 0..<3 {
      let x = nchwToNHWC(Array(real[(step * batch * per)..<((step + 1) * batch * per)]), n: batch, c: arch.nc,
                         h: arch.imageSize, w: arch.imageSize)
      t.realBatch.update(from: x, count: x.count)
      for i in 0..<batch { t.labels[i] = Int32(labels[step * batch + i]) }
      for i in 0..<(batch * arch.nz) { t.generator.input[i] = noise[step * batch * arch.nz + i] }
      let s = t.step()
      let want = (0..<5).map { Double(stats[step * 5 + $0]) }
      for (k, (got, label)) in [(s.lossD, "L_D"), (s.lossG, "L_G"), (s.dx, "D(x)"), (s.dgz1, "D(G(z)) before"),
                                 (s.dgz2, "D(G(z)) after")].enumerated() {
        let e = relative(got, want[k])
        worstStat = max(worstStat, e)
        XCTAssert(e <= 1e-4, "\(name) step \(step + 1) \(label): \(got) vs PyTorch \(want[k]) (relative \(e))")
      }
    }
    print("fixture \(name) (\(threads) threads): worst relative error of the losses and mean outputs over 3 steps " +
          "\(worstStat)")
    let worst = try assertWeightsMatch(t, f, "\(name) after 3 steps")
    print("fixture \(name) (\(threads) threads): worst relative error of the weights after 3 steps \(worst.0) " +
          "(\(worst.1))")
  }

  func testConditionalSAGAN32MatchesPyTorch() throws {
    try check("sagan3-32.safetensors", threads: 1)
    try check("sagan3-32.safetensors", threads: 2)
  }

  func testConditionalSAGAN64MatchesPyTorch() throws { try check("sagan3-64.safetensors", threads: 2) }
}
