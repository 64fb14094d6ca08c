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
