import GanKernels
import GanModel
import XCTest

@testable import GanTraining

/// The discriminator's backward-data as Winograd transposed convolutions (gan-train --winograd).
final class WinogradTrainingTests: XCTestCase {
  /// Gradients against the direct kernels, before and after an optimizer step (the transformed
  /// weights must follow the weights), and bitwise equal across thread counts.
  func testDiscriminatorBackwardDataMatchesDirectAndFollowsWeights() throws {
    let arch = try Architecture(imageSize: 32, nz: 16, ngf: 16, ndf: 16, nc: 1)
    let batch = 4
    let params = ParameterSet(spec: arch.discriminatorSpec)
    var rng = Philox4x32(seed: 3, stream: 0)
    params.initialize(rng: &rng)
    let direct = Discriminator(architecture: arch, batch: batch, threads: 2, parameters: params)
    // Layers 0-2 backward-data run at 16, 8 and 4 pixels: tiles 4, 4, 4 (and tile 2 on layer 0 below).
    let winograd = Discriminator(architecture: arch, batch: batch, threads: 2, parameters: params,
                                 backwardDataTiles: [4, 4, 4])
    let winogradOneThread = Discriminator(architecture: arch, batch: batch, threads: 1, parameters: params,
                                          backwardDataTiles: [4, 4, 4])
    let winograd2 = Discriminator(architecture: arch, batch: batch, threads: 2, parameters: params,
                                  backwardDataTiles: [2, 2, 2])
    XCTAssertEqual(winograd.backwardDataTiles, [4, 4, 4, 0])
    let images = (0..<(batch * 32 * 32)).map { Float(($0 * 7919) % 2001) / 1000 - 1 }
    let logitGradient: [Float] = [0.3, -0.45, 0.1, -0.2]

    func gradients(_ d: Discriminator) -> (weights: [Float], input: [Float]) {
      images.withUnsafeBufferPointer { d.forward($0.baseAddress!) }
      d.logitGradient.update(from: logitGradient, count: batch)
      d.backward(weightGradients: true, inputGradient: true)
      return (Array(UnsafeBufferPointer(start: params.gradients, count: params.count)),
              Array(UnsafeBufferPointer(start: d.inputGradient, count: images.count)))
    }
    func relativeMaxError(_ a: [Float], _ b: [Float]) -> Float {
      let scale = b.map(abs).max()!
      return zip(a, b).map { abs($0 - $1) }.max()! / max(scale, 1e-20)
    }
    for step in 0..<2 {
      let d = gradients(direct), w = gradients(winograd), w1 = gradients(winogradOneThread), w2 = gradients(winograd2)
      XCTAssertLessThan(relativeMaxError(w.weights, d.weights), 2e-4, "step \(step): weight gradients, F(4x4, 2x2)")
      XCTAssertLessThan(relativeMaxError(w.input, d.input), 2e-4, "step \(step): input gradient, F(4x4, 2x2)")
      XCTAssertLessThan(relativeMaxError(w2.input, d.input), 1e-4, "step \(step): input gradient, F(2x2, 2x2)")
      XCTAssertEqual(w.weights, w1.weights, "step \(step): 1 vs 2 threads")
      XCTAssertEqual(w.input, w1.input, "step \(step): 1 vs 2 threads")
      XCTAssertNotEqual(w.input, d.input, "step \(step): the Winograd path did not run")
      // An optimizer step moves the weights (and the generation): the next pass must use them.
      params.adamStep(lr: 0.05, beta1: 0.5)
    }
  }

  /// The table never picks a tile that does not fit, and leaves narrow outputs to the direct path.
  func testSelectionTable() {
    for (h, ci, co) in [(4, 512, 256), (8, 256, 128), (16, 128, 64), (32, 64, 3), (2, 512, 512), (6, 256, 256), (1, 100,
        512)] {
      let t = AlgorithmPolicy.inferenceDeconvolutionTile(height: h, inChannels: ci, outChannels: co)
      if t != 0 {
        XCTAssert(WinogradDeconv4s2.supports(tile: t, ConvShape(batch: 1, height: h, width: h, inChannels: ci,
                                                                outChannels: co)),
                  "tile \(t) for \(h)x\(h)x\(ci)->\(co)")
      }
    }
    XCTAssertEqual(AlgorithmPolicy.inferenceDeconvolutionTile(height: 32, inChannels: 64, outChannels: 3), 0)
    XCTAssertEqual(AlgorithmPolicy.inferenceDeconvolutionTile(height: 1, inChannels: 100, outChannels: 512), 0)
  }
}

extension WinogradTrainingTests {
  /// G's training forward through Winograd (BatchNorm statistics fused): outputs and gradients
  /// against the direct kernels, after an optimizer step too, and thread-count independent.
  func testGeneratorForwardMatchesDirectAndFollowsWeights() throws {
    let arch = try Architecture(imageSize: 32, nz: 16, ngf: 16, ndf: 16, nc: 1)
    let batch = 4
    let params = ParameterSet(spec: arch.generatorSpec)
    var rng = Philox4x32(seed: 5, stream: 0)
    params.initialize(rng: &rng)
    // Layers 1 and 2 read 4x4 and 8x8 maps: tile 4 on both, tile 2 in the second network.
    let direct = Generator(architecture: arch, batch: batch, threads: 2, parameters: params)
    let winograd = Generator(architecture: arch, batch: batch, threads: 2, parameters: params, forwardTiles: [0, 4, 4])
    let winogradOneThread = Generator(architecture: arch, batch: batch, threads: 1, parameters: params,
                                      forwardTiles: [0, 4, 4])
    let winograd2 = Generator(architecture: arch, batch: batch, threads: 2, parameters: params, forwardTiles: [0, 2, 2])
    XCTAssertEqual(winograd.forwardTiles, [0, 4, 4, 0])
    let z = (0..<(batch * 16)).map { Float(($0 * 613) % 201) / 100 - 1 }
    let outGrad = (0..<direct.outputCount).map { Float(($0 * 7919) % 2001) / 2000 - 0.5 }
    func run(_ g: Generator) -> (out: [Float], grads: [Float]) {
      g.input.update(from: z, count: z.count)
      g.forward(mode: .train)
      g.outputGradient.update(from: outGrad, count: outGrad.count)
      g.backward()
      return (Array(UnsafeBufferPointer(start: g.output, count: g.outputCount)),
              Array(UnsafeBufferPointer(start: params.gradients, count: params.count)))
    }
    func relativeMaxError(_ a: [Float], _ b: [Float]) -> Float {
      zip(a, b).map { abs($0 - $1) }.max()! / max(b.map(abs).max()!, 1e-20)
    }
    for step in 0..<2 {
      let d = run(direct), w = run(winograd), w1 = run(winogradOneThread), w2 = run(winograd2)
      XCTAssertLessThan(relativeMaxError(w.out, d.out), 1e-4, "step \(step): output, F(4x4, 2x2)")
      XCTAssertLessThan(relativeMaxError(w.grads, d.grads), 1e-3, "step \(step): gradients, F(4x4, 2x2)")
      XCTAssertLessThan(relativeMaxError(w2.out, d.out), 1e-4, "step \(step): output, F(2x2, 2x2)")
      XCTAssertEqual(w.out, w1.out, "step \(step): 1 vs 2 threads")
      XCTAssertEqual(w.grads, w1.grads, "step \(step): 1 vs 2 threads")
      XCTAssertNotEqual(w.out, d.out, "step \(step): the Winograd path did not run")
      params.adamStep(lr: 0.05, beta1: 0.5)
    }
  }
}

extension WinogradTrainingTests {
  /// D's forward through Winograd on the space-to-depth grid (BatchNorm statistics fused), alone
  /// and with the backward-data: logits and gradients against the direct kernels, after an
  /// optimizer step too, and thread-count independent.
  func testDiscriminatorForwardMatchesDirectAndFollowsWeights() throws {
    let arch = try Architecture(imageSize: 32, nz: 16, ngf: 16, ndf: 16, nc: 3)
    let batch = 4
    let params = ParameterSet(spec: arch.discriminatorSpec)
    var rng = Philox4x32(seed: 11, stream: 0)
    params.initialize(rng: &rng)
    // Layers 0-2 write 16x16, 8x8 and 4x4 maps: tile 4 fits all three.
    let direct = Discriminator(architecture: arch, batch: batch, threads: 2, parameters: params)
    let winograd = Discriminator(architecture: arch, batch: batch, threads: 2, parameters: params, forwardTiles: [4, 4,
        4])
    let winogradOneThread = Discriminator(architecture: arch, batch: batch, threads: 1, parameters: params,
                                          forwardTiles: [4, 4, 4])
    let winograd2 = Discriminator(architecture: arch, batch: batch, threads: 2, parameters: params, forwardTiles: [2, 2,
        2])
    let both = Discriminator(architecture: arch, batch: batch, threads: 2, parameters: params, forwardTiles: [4, 4, 4],
                             backwardDataTiles: [4, 4, 4])
    XCTAssertEqual(winograd.forwardTiles, [4, 4, 4, 0])
    XCTAssertEqual(winograd.backwardDataTiles, [0, 0, 0, 0])
    let images = (0..<(batch * 32 * 32 * 3)).map { Float(($0 * 7919) % 2001) / 1000 - 1 }
    let logitGradient: [Float] = [0.3, -0.45, 0.1, -0.2]
    func run(_ d: Discriminator) -> (logits: [Float], weights: [Float], input: [Float]) {
      images.withUnsafeBufferPointer { d.forward($0.baseAddress!) }
      let logits = Array(UnsafeBufferPointer(start: d.logits, count: batch))
      d.logitGradient.update(from: logitGradient, count: batch)
      d.backward(weightGradients: true, inputGradient: true)
      return (logits, Array(UnsafeBufferPointer(start: params.gradients, count: params.count)),
              Array(UnsafeBufferPointer(start: d.inputGradient, count: images.count)))
    }
    func relativeMaxError(_ a: [Float], _ b: [Float]) -> Float {
      zip(a, b).map { abs($0 - $1) }.max()! / max(b.map(abs).max()!, 1e-20)
    }
    for step in 0..<2 {
      let d = run(direct), w = run(winograd), w1 = run(winogradOneThread), w2 = run(winograd2), wb = run(both)
      XCTAssertLessThan(relativeMaxError(w.logits, d.logits), 1e-4, "step \(step): logits, F(4x4, 2x2)")
      XCTAssertLessThan(relativeMaxError(w.weights, d.weights), 1e-3, "step \(step): weight gradients, F(4x4, 2x2)")
      XCTAssertLessThan(relativeMaxError(w.input, d.input), 1e-3, "step \(step): input gradient, F(4x4, 2x2)")
      XCTAssertLessThan(relativeMaxError(w2.logits, d.logits), 1e-4, "step \(step): logits, F(2x2, 2x2)")
      XCTAssertLessThan(relativeMaxError(wb.weights, d.weights), 1e-3,
                        "step \(step): weight gradients, forward and backward-data")
      XCTAssertLessThan(relativeMaxError(wb.input, d.input), 1e-3,
                        "step \(step): input gradient, forward and backward-data")
      XCTAssertEqual(w.logits, w1.logits, "step \(step): 1 vs 2 threads")
      XCTAssertEqual(w.weights, w1.weights, "step \(step): 1 vs 2 threads")
      XCTAssertNotEqual(w.logits, d.logits, "step \(step): the Winograd path did not run")
      params.adamStep(lr: 0.05, beta1: 0.5)
    }
  }

  /// The training tables pick only tiles that fit, over the DCGAN-32/64/128 layer shapes.
  func testTrainingSelectionFits() throws {
    for size in [32, 64, 128] {
      let arch = try Architecture(imageSize: size, nz: 100, ngf: 64, ndf: 64, nc: 3)
      for i in 0..<(arch.layerCount - 1) {
        let s = arch.discriminatorInputSize(i), ci = arch.discriminatorInputChannels(i), co = arch.discriminatorChannels(i)
        let f = AlgorithmPolicy.trainingConvolutionTile(height: s, inChannels: ci, outChannels: co)
        if f != 0 { XCTAssert(WinogradConv4s2.supports(tile: f, ConvShape(batch: 1, height: s, width: s, inChannels: ci,
            outChannels: co))) }
        let b = AlgorithmPolicy.trainingBackwardDataTile(height: s / 2, inChannels: co, outChannels: ci)
        if b != 0 { XCTAssert(WinogradDeconv4s2.supports(tile: b, ConvShape(batch: 1, height: s / 2, width: s / 2,
            inChannels: co, outChannels: ci))) }
      }
      for i in 1..<(arch.layerCount - 1) {
        let s = arch.generatorSize(i - 1), ci = arch.generatorInputChannels(i), co = arch.generatorChannels(i)
        let t = AlgorithmPolicy.trainingDeconvolutionTile(batch: 64, height: s, inChannels: ci, outChannels: co)
        if t != 0 { XCTAssert(WinogradDeconv4s2.supports(tile: t, ConvShape(batch: 1, height: s, width: s,
            inChannels: ci, outChannels: co))) }
      }
      // The first convolution (3 input channels) stays direct.
      XCTAssertEqual(AlgorithmPolicy.trainingConvolutionTile(height: size, inChannels: 3, outChannels: 64), 0)
    }
  }
}
