import GanKernels
import XCTest

/// The SAGAN kernels through their Swift face: self-attention forward and backward for every
/// softmax variant against the direct loops, over edge shapes and SAGAN's 16x16 block, and
/// spectral norm on a KKIO convolution weight against the reference.
final class AttentionKernelTests: XCTestCase {
  func tolerance(_ k: Int) -> Float { 8 * (2e-6 * Float(k).squareRoot() + 1e-6) }

  func testAttentionMatchesReferenceForEverySoftmaxVariant() {
    var rng = TestRandom(seed: 11)
    let shapes = [AttentionShape(batch: 1, positions: 1, keyChannels: 1, valueChannels: 1),
                  AttentionShape(batch: 2, positions: 9, keyChannels: 3, valueChannels: 7),
                  AttentionShape(batch: 1, positions: 256, keyChannels: 8, valueChannels: 64)]
    defer { Softmax.forceVariant(nil) }
    for (index, name) in Softmax.variantNames.enumerated() {
      Softmax.forceVariant(Int32(index))
      for s in shapes {
        let nq = s.batch * s.positions * s.keyChannels, nv = s.batch * s.positions * s.valueChannels
        let q = rng.array(nq, scale: 2), k = rng.array(nq, scale: 2), v = rng.array(nv), g = rng.array(nv)
        var results: [[[Float]]] = []
        for reference in [true, false] {
          var attn = [Float](repeating: 0, count: s.mapCount), ds = attn, o = [Float](repeating: 0, count: nv), dv = o
          var dq = [Float](repeating: 0, count: nq), dk = dq
          let ws = Workspace(bytes: SelfAttention.workspaceBytes(s, threads: 2))
          SelfAttention.forward(s, q: q, k: k, v: v, attn: &attn, o: &o, workspace: ws.pointer, threads: 2,
                                reference: reference)
          SelfAttention.backward(s, q: q, k: k, v: v, attn: attn, dout: g, ds: &ds, dq: &dq, dk: &dk, dv: &dv,
                                 workspace: ws.pointer, threads: 2, reference: reference)
          results.append([attn, o, ds, dq, dk, dv])
        }
        for (i, what) in ["attention map", "output", "dS", "dQ", "dK", "dV"].enumerated() {
          let e = relativeMaxError(results[1][i], results[0][i])
          XCTAssertLessThanOrEqual(e, tolerance(s.positions * s.keyChannels), "\(name) \(what) \(s)")
        }
      }
    }
  }

  /// A row of the attention map sums to 1, and a row softmax of equal logits is uniform.
  func testSoftmaxRowsAreDistributions() {
    let x = [Float](repeating: 3, count: 4 * 37)
    var y = [Float](repeating: 0, count: x.count)
    Softmax.rows(4, 37, x: x, y: &y, threads: 2)
    for value in y { XCTAssertEqual(value, 1 / 37, accuracy: 1e-7) }
  }

  func testSpectralNormOfAKKIOWeightMatchesReference() {
    var rng = TestRandom(seed: 5)
    let m = SpectralMatrix.kkio(inChannels: 24, outChannels: 40)
    let w = rng.array(m.rows * m.columns)
    let u0 = rng.array(m.rows), v0 = rng.array(m.columns)
    var sigmas: [Float] = [], us: [[Float]] = [], normalized: [[Float]] = [], grads: [[Float]] = []
    let dsn = rng.array(w.count)
    for reference in [true, false] {
      var u = u0, v = v0, scratch = [Float](repeating: 0, count: m.rows), wsn = [Float](repeating: 0, count: w.count)
      let sigma = SpectralNorm.sigma(m, w: w, u: &u, v: &v, update: true, scratch: &scratch, normalized: &wsn,
                                     reference: reference)
      var dw = [Float](repeating: 0, count: w.count)
      SpectralNorm.backward(m, w: w, u: u, v: v, sigma: sigma, dNormalized: dsn, dw: &dw, accumulate: false,
                            reference: reference)
      sigmas.append(sigma); us.append(u); normalized.append(wsn); grads.append(dw)
    }
    XCTAssertEqual(sigmas[1], sigmas[0], accuracy: 1e-5 * sigmas[0])
    XCTAssertLessThanOrEqual(relativeMaxError(us[1], us[0]), 1e-5)
    XCTAssertLessThanOrEqual(relativeMaxError(normalized[1], normalized[0]), 1e-5)
    XCTAssertLessThanOrEqual(relativeMaxError(grads[1], grads[0]), 1e-5)
    XCTAssertGreaterThan(sigmas[0], 0)
  }
}

/// Conditional BatchNorm's backward and the projection head through their Swift face, against
/// the references, at SAGAN's G 8x8 block shape (10 classes).
final class ConditionalKernelTests: XCTestCase {
  func testConditionalBatchNormAndProjectionMatchReferences() {
    var rng = TestRandom(seed: 21)
    let (n, p, c, classes) = (6, 64, 40, 10)
    let labels: [Int32] = (0..<n).map { Int32(($0 * 3) % classes) }
    let x = rng.array(n * p * c), y = rng.array(n * p * c), dy = rng.array(n * p * c)
    let gain = rng.array(classes * c), mean = rng.array(c), rstd = rng.array(c).map { abs($0) + 0.5 }
    var dx: [[Float]] = [], dg: [[Float]] = [], logits: [[Float]] = [], dembed: [[Float]] = []
    let embed = rng.array(classes * c), dlogit = rng.array(n)
    for reference in [true, false] {
      var d = [Float](repeating: 0, count: x.count), g = [Float](repeating: 0, count: classes * c), b = g
      var scratch = [Double](repeating: 0, count: (2 * n + 2) * c)
      ConditionalBatchNorm.backward(images: n, rowsPerImage: p, channels: c, classes: classes, labels: labels, x: x,
                                    y: y, dy: dy, mean: mean, rstd: rstd, gain: gain, activation: .relu, dx: &d,
                                    dgain: &g, dbias: &b, accumulate: false, scratch: &scratch, reference: reference)
      dx.append(d); dg.append(g + b)
      var l = [Float](repeating: 0.25, count: n), dh = [Float](repeating: 0, count: x.count)
      var de = [Float](repeating: 0, count: classes * c)
      ProjectionHead.forward(images: n, positions: p, channels: c, labels: labels, h: x, embed: embed, logit: &l,
                             reference: reference)
      ProjectionHead.backward(images: n, positions: p, channels: c, labels: labels, h: x, embed: embed,
                              dlogit: dlogit, dh: &dh, accumulate: false, dembed: &de, reference: reference)
      logits.append(l); dembed.append(de + dh)
    }
    XCTAssertLessThanOrEqual(relativeMaxError(dx[1], dx[0]), 1e-4)
    XCTAssertLessThanOrEqual(relativeMaxError(dg[1], dg[0]), 1e-4)
    XCTAssertLessThanOrEqual(relativeMaxError(logits[1], logits[0]), 1e-5)
    XCTAssertLessThanOrEqual(relativeMaxError(dembed[1], dembed[0]), 1e-5)
    // Classes absent from the batch get zero gradients.
    XCTAssertTrue(dg[1][(1 * c)..<(2 * c)].allSatisfy { $0 == 0 })
  }
}
