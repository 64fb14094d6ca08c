import XCTest
import GanKernels
import GanModel
import GanTestSupport
@testable import GanTraining

/// The gradient penalty's double backward, piece by piece, against numerical Hessian-vector
/// products (central differences of the first backward, contracted with a random adjoint) on
/// small shapes: the Conv2d backward-data's (the transposed convolution a critic's first backward
/// runs), the attention block's (weights through spectral norm, biases, gamma, its input and its
/// upstream gradient; the attention core alone is checked the same way in the kernel driver, and
/// spectral norm's backward there too), and the projection head's. LeakyReLU's second derivative
/// is 0 (its mask passes adjoints on). The whole critic's penalty gradient is checked against
/// autograd (PyTorchWGANTests): central differences of the penalty itself jump where an
/// activation changes sign, since its gradient does.
final class PenaltyHessianTests: XCTestCase {
  func random(_ n: Int, _ rng: inout Philox4x32, std: Float = 1) -> [Float] {
    var v = [Float](repeating: 0, count: n)
    v.withUnsafeMutableBufferPointer { rng.fillNormal($0, std: std) }
    return v
  }

  func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

  func assertClose(_ analytic: Double, _ numeric: Double, _ what: String, tolerance: Double = 1e-2,
                   file: StaticString = #filePath, line: UInt = #line) {
    let e = abs(analytic - numeric) / max(abs(numeric), 1e-6)
    XCTAssertLessThanOrEqual(e, tolerance, "\(what): analytic \(analytic), central differences \(numeric)",
                             file: file, line: line)
  }

  /// g = conv^T(dz, W) (backward-data): adjoint gbar gives W's (the weight-gradient kernel with
  /// gbar as the input) and dz's (the forward convolution of gbar).
  func testConvolutionBackwardDataDoubleBackward() throws {
    let s = ConvShape(batch: 2, height: 8, width: 8, inChannels: 3, outChannels: 5)
    var rng = Philox4x32(seed: 2)
    var w = random(s.weightCount, &rng, std: 0.3)
    var dz = random(2 * 4 * 4 * 5, &rng)
    let gbar = random(2 * 8 * 8 * 3, &rng)
    let ws = Scratch(Conv4s2.workspaceBytes(s, threads: 2))
    func contracted() -> Double {
      var g = [Float](repeating: 0, count: gbar.count)
      Conv4s2.backwardData(s, dy: dz, weights: w, dx: &g, workspace: ws.raw, threads: 2)
      return dot(g, gbar)
    }
    var wbar = [Float](repeating: 0, count: w.count), zbar = [Float](repeating: 0, count: dz.count)
    Conv4s2.backwardWeights(s, x: gbar, dy: dz, dw: &wbar, accumulate: false, workspace: ws.raw, threads: 2)
    Conv4s2.forward(s, x: gbar, weights: w, y: &zbar, workspace: ws.raw, threads: 2)
    for (name, analyticAdjoint) in [("W", wbar), ("dz", zbar)] {
      let direction = random(analyticAdjoint.count, &rng)
      let keep = name == "W" ? w : dz
      let h: Float = 1e-2
      func shift(_ t: Float) { for i in 0..<keep.count { let v = keep[i] + t * direction[i]; if name == "W" { w[i] = v } else { dz[i] = v } } }
      shift(h); let plus = contracted()
      shift(-h); let minus = contracted()
      shift(0)
      assertClose(dot(analyticAdjoint, direction), (plus - minus) / Double(2 * h), "conv^T double backward, \(name)",
                  tolerance: 1e-4)
    }
  }

  /// The attention block: dx = backward(x, dy) through spectral-normalized 1x1 weights, biases
  /// and gamma; doubleBackward's adjoints of x, dy and every parameter against central differences
  /// of <xbar, dx> (u and v held).
  func testAttentionBlockDoubleBackward() throws {
    let arch = try Architecture(imageSize: 32, nz: 8, ngf: 8, ndf: 16, nc: 3, family: .sagan, classes: 0, attentionAt: 16)
    let params = ParameterSet(spec: arch.discriminatorSpec)
    var rng = Philox4x32(seed: 3)
    params.initialize(rng: &rng)
    let spec = params.spec.attention!
    let names = AttentionSpec.parts.flatMap { [spec.weight($0), spec.bias($0)] } + [spec.gamma]
    for n in names {
      let t = params.spec.parameter(named: n)!
      let v = random(t.count, &rng, std: n.hasSuffix("weight_orig") ? 0.3 : 0.2)
      (params.values + t.offset).update(from: v, count: t.count)
    }
    params.value(spec.gamma).pointee = 0.7
    let batch = 2, positions = 16 * 16, c = spec.channels, count = batch * positions * c
    let shape = AttentionShape(batch: batch, positions: positions, keyChannels: spec.keyChannels, valueChannels: c)
    let built = Arena.build { a -> AttentionLayer in
      let ws = a.raw(AttentionLayer.workspaceBytes(shape, threads: 2, doubleBackward: true))
      return AttentionLayer(spec, batch: batch, positions: positions, params: params, arena: a,
                            gradientScratch: a.floats(c * c), workspace: ws, threads: 2, doubleBackward: true)
    }
    let layer = built.value
    var x = random(count, &rng, std: 0.5), dy = random(count, &rng)
    let xbar = random(count, &rng)
    for _ in 0..<30 { x.withUnsafeBufferPointer { layer.forward($0.baseAddress!, powerIteration: true) } }
    func contracted() -> Double {
      var dx = [Float](repeating: 0, count: count)
      x.withUnsafeBufferPointer { xp in
        layer.forward(xp.baseAddress!, powerIteration: false)
        layer.backward(xp.baseAddress!, dy: dy, dx: &dx, mode: .discard, keepUpstream: true)
      }
      return dot(dx, xbar)
    }
    _ = contracted()
    params.zeroGradients()
    var dybar = [Float](repeating: 0, count: count), inputBar = [Float](repeating: 0, count: count)
    x.withUnsafeBufferPointer { xp in
      layer.doubleBackward(xp.baseAddress!, adjointDx: xbar, adjointDy: &dybar, adjointX: &inputBar, mode: .accumulate)
    }
    func check(_ what: String, adjoint: [Float], get: () -> [Float], set: ([Float]) -> Void, step: Float) {
      let keep = get(), direction = random(keep.count, &rng)
      set(zip(keep, direction).map { $0 + step * $1 }); let plus = contracted()
      set(zip(keep, direction).map { $0 - step * $1 }); let minus = contracted()
      set(keep)
      assertClose(dot(adjoint, direction), (plus - minus) / Double(2 * step), "attention double backward, \(what)")
    }
    check("x", adjoint: inputBar, get: { x }, set: { x = $0 }, step: 1e-2)
    check("dy", adjoint: dybar, get: { dy }, set: { dy = $0 }, step: 1e-1)
    for n in names {
      let t = params.spec.parameter(named: n)!
      let p = params.values + t.offset
      if n == spec.bias("key") || n == spec.bias("value") {
        // dx does not depend on them: they shift each row of the scores and of dA by a constant,
        // which the softmax and its backward cancel. The adjoint is 0 up to rounding; central
        // differences of dx show only float noise.
        let g = params.torchGradient(n)
        XCTAssert(g.allSatisfy { abs($0) <= 1e-5 }, "\(n): \(g)")
        continue
      }
      check(n, adjoint: params.torchGradient(n), get: { params.torchValue(n) },
            set: { v in var w = v; w.withUnsafeMutableBufferPointer { t.layout.fromTorch($0.baseAddress!, to: p) } },
            step: 1e-2)
    }
  }

  /// The projection head: the first backward adds dlogit * embed[y] to each position of dh; the
  /// adjoint of dh gives embed's (ProjectionHead.backward with the adjoint as h).
  func testProjectionHeadDoubleBackward() throws {
    let (n, p, c, classes) = (3, 16, 6, 4)
    var rng = Philox4x32(seed: 4)
    var embed = random(classes * c, &rng)
    let dlogit = random(n, &rng), hbar = random(n * p * c, &rng), labels: [Int32] = [3, 0, 3]
    func contracted() -> Double {
      var dh = [Float](repeating: 0, count: n * p * c)
      let h = [Float](repeating: 0, count: n * p * c)
      var sink = [Float](repeating: 0, count: classes * c)
      ProjectionHead.backward(images: n, positions: p, channels: c, labels: labels, h: h, embed: embed, dlogit: dlogit,
                              dh: &dh, accumulate: false, dembed: &sink)
      return dot(dh, hbar)
    }
    var ebar = [Float](repeating: 0, count: classes * c), sink = [Float](repeating: 0, count: n * p * c)
    ProjectionHead.backward(images: n, positions: p, channels: c, labels: labels, h: hbar, embed: embed, dlogit: dlogit,
                            dh: &sink, accumulate: false, dembed: &ebar)
    let keep = embed, direction = random(embed.count, &rng), h: Float = 1e-2
    embed = zip(keep, direction).map { $0 + h * $1 }; let plus = contracted()
    embed = zip(keep, direction).map { $0 - h * $1 }; let minus = contracted()
    assertClose(dot(ebar, direction), (plus - minus) / Double(2 * h), "projection double backward, embed", tolerance: 1e-4)
  }
}
