import XCTest
import GanKernels
import GanModel
import GanTraining

/// Whole DCGAN G and D at batch 4 against PyTorch (train-mode BatchNorm): outputs, every parameter
/// gradient, the discriminator's input gradient and the running statistics, within 1e-4 relative
/// (infinity norm).
final class PyTorchNetworkTests: XCTestCase {
  func check(_ file: String) throws {
    let f = try Fixtures.open(file)
    let arch = try Architecture(json: f.metadata["arch"]!)
    for threads in [1, 2] {
      let G = Generator(architecture: arch, batch: 4, threads: threads)
      try G.parameters.load(from: f, prefix: "G.")
      let z = try f.floats("G.in.z")
      for i in 0..<z.count { G.input[i] = z[i] }
      G.forward()
      assertMatches(Array(UnsafeBufferPointer(start: G.output, count: G.outputCount)), try f.nhwc("G.out"),
                    "\(file) G output (\(threads) threads)")
      let dout = try f.nhwc("G.out.grad")
      for i in 0..<dout.count { G.outputGradient[i] = dout[i] }
      G.backward()
      for s in G.parameters.spec.parameters {
        assertMatches(G.parameters.torchGradient(s.name), try f.floats("G.grad." + s.name), "\(file) G grad \(s.name)")
      }
      for s in G.parameters.spec.buffers {
        let got = Array(UnsafeBufferPointer(start: G.parameters.buffer(s.name), count: s.count))
        assertMatches(got, try f.floats("G.after." + s.name), "\(file) G \(s.name)")
      }

      let D = Discriminator(architecture: arch, batch: 4, threads: threads)
      try D.parameters.load(from: f, prefix: "D.")
      let x = Buf(try f.nhwc("D.in.x"))
      D.forward(x.p)
      let logits = Array(UnsafeBufferPointer(start: D.logits, count: 4))
      assertMatches(logits, try f.floats("D.out.logits"), "\(file) D logits")
      let loss = BCEWithLogits.loss(D.logits, count: 4, target: 1, gradient: D.logitGradient)
      assertMatches([Float(loss)], try f.floats("D.out.loss"), "\(file) D loss")
      D.backward(weightGradients: true, accumulate: false, inputGradient: true)
      for s in D.parameters.spec.parameters {
        assertMatches(D.parameters.torchGradient(s.name), try f.floats("D.grad." + s.name), "\(file) D grad \(s.name)")
      }
      assertMatches(Array(UnsafeBufferPointer(start: D.inputGradient, count: x.count)), try f.nhwc("D.in.grad"),
                    "\(file) D input gradient")
      for s in D.parameters.spec.buffers {
        let got = Array(UnsafeBufferPointer(start: D.parameters.buffer(s.name), count: s.count))
        assertMatches(got, try f.floats("D.after." + s.name), "\(file) D \(s.name)")
      }
    }
  }

  func testDCGAN32MatchesPyTorch() throws { try check("dcgan32.safetensors") }
  func testDCGAN64GrayMatchesPyTorch() throws { try check("dcgan64.safetensors") }
}

/// 128 px networks (one more block than 64) run forward and backward with finite results, and a
/// training step of a 128 px model changes every parameter tensor.
final class LargeModelTests: XCTestCase {
  func testDCGAN128TrainsOneStep() throws {
    var cfg = TrainingConfiguration(architecture: try Architecture(imageSize: 128, nz: 8, ngf: 4, ndf: 4, nc: 3))
    cfg.batchSize = 2
    cfg.threads = 2
    let t = GANTrainer(configuration: cfg)
    t.initializeWeights()
    XCTAssertEqual(t.generator.parameters.spec.parameters.count, 6 + 2 * 5)
    var rng = Philox4x32(seed: 3)
    rng.fillNormal(UnsafeMutableBufferPointer(start: t.realBatch, count: 2 * 128 * 128 * 3), std: 0.5)
    rng.fillNormal(UnsafeMutableBufferPointer(start: t.generator.input, count: 2 * 8))
    let before = t.generator.parameters.spec.parameters.map { t.generator.parameters.torchValue($0.name) }
    let s = t.step()
    XCTAssert(s.isFinite, "\(s)")
    XCTAssertEqual(t.generator.outputCount, 2 * 128 * 128 * 3)
    XCTAssertFalse(UnsafeBufferPointer(start: t.generator.output,
                                       count: t.generator.outputCount).contains { !$0.isFinite || abs($0) > 1 })
    for (i, spec) in t.generator.parameters.spec.parameters.enumerated() {
      XCTAssertNotEqual(t.generator.parameters.torchValue(spec.name), before[i], "\(spec.name) did not change")
    }
  }
}
