import XCTest
import GanKernels

/// The Swift SIMD streaming passes against their scalar C references, over counts and channel
/// counts that are and are not multiples of the 16-lane vectors.
final class ElementwiseTests: XCTestCase {
  func testBatchNormApplyMatchesReference() {
    var rng = TestRandom(seed: 31)
    for (rows, c) in [(1, 1), (7, 3), (5, 16), (9, 20), (33, 64), (2, 100)] {
      let x = rng.array(rows * c, scale: 3), scale = rng.array(c), shift = rng.array(c)
      for act in [Activation.none, .relu, .leakyRelu(0.2)] {
        var got = [Float](repeating: 0, count: x.count), want = got
        BatchNorm.apply(rows: rows, channels: c, x: x, scale: scale, shift: shift, activation: act, y: &got)
        ElementwiseReference.bnApply(rows: rows, channels: c, x: x, scale: scale, shift: shift, activation: act,
                                     y: &want)
        assertClose(got, want, tolerance: 1e-6, "bn apply rows=\(rows) c=\(c) \(act)")
      }
    }
  }

  func testBatchNormBackwardMatchesReference() {
    var rng = TestRandom(seed: 32)
    for (rows, c) in [(1, 1), (7, 3), (5, 16), (300, 20), (33, 64)] {
      let x = rng.array(rows * c, scale: 2), dy = rng.array(rows * c)
      let gamma = rng.array(c), mean = rng.array(c, scale: 0.1), rstd = rng.array(c).map { abs($0) + 0.5 }
      for act in [Activation.none, .relu, .leakyRelu(0.2)] {
        let y = zip(x.indices, x).map { i, v -> Float in
          let t = (v - mean[i % c]) * rstd[i % c] * gamma[i % c]
          switch act { case .relu: return max(t,
                                              0); case .leakyRelu(let s): return t > 0 ? t : s * t; default: return t }
        }
        let dg0 = rng.array(c), db0 = rng.array(c)
        var dxA = [Float](repeating: 0, count: x.count), dxB = dxA
        var dgA = dg0, dbA = db0, dgB = dg0, dbB = db0
        var scratch = [Double](repeating: 0, count: 2 * c)
        BatchNorm.backward(rows: rows, channels: c, x: x, y: y, dy: dy, mean: mean, rstd: rstd, gamma: gamma,
                           activation: act,
                           dx: &dxA, dgamma: &dgA, dbeta: &dbA, accumulate: true, scratch: &scratch)
        ElementwiseReference.bnBackward(rows: rows, channels: c, x: x, y: y, dy: dy, mean: mean, rstd: rstd,
                                        gamma: gamma,
                                        activation: act, dx: &dxB, dgamma: &dgB, dbeta: &dbB, accumulate: true)
        assertClose(dxA, dxB, tolerance: 1e-5, "bn backward dx rows=\(rows) c=\(c) \(act)")
        assertClose(dgA, dgB, tolerance: 1e-5, "bn backward dgamma rows=\(rows) c=\(c) \(act)")
        assertClose(dbA, dbB, tolerance: 1e-5, "bn backward dbeta rows=\(rows) c=\(c) \(act)")
      }
    }
  }

  func testActivationBackwardsMatchReference() {
    var rng = TestRandom(seed: 33)
    for n in [0, 1, 15, 16, 17, 1000] {
      let y = rng.array(n), dy = rng.array(n)
      var a = [Float](repeating: 0, count: n), b = a
      ActivationGrad.leakyRelu(count: n, y: y, dy: dy, slope: 0.2, dx: &a)
      ElementwiseReference.leakyReluBackward(count: n, y: y, dy: dy, slope: 0.2, dx: &b)
      assertIdentical(a, b, "leaky relu backward n=\(n)")
      ActivationGrad.tanh(count: n, y: y, dy: dy, dx: &a)
      ElementwiseReference.tanhBackward(count: n, y: y, dy: dy, dx: &b)
      assertIdentical(a, b, "tanh backward n=\(n)")
    }
  }

  func testAdamMatchesReference() {
    var rng = TestRandom(seed: 34)
    for n in [1, 15, 16, 33, 1000] {
      var pA = rng.array(n), mA = [Float](repeating: 0, count: n), vA = mA
      var pB = pA, mB = mA, vB = vA
      for step in 1...5 {
        let g = rng.array(n, scale: 0.1)
        Adam.step(count: n, params: &pA, grads: g, m: &mA, v: &vA, lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8,
                  step: step)
        ElementwiseReference.adam(count: n, params: &pB, grads: g, m: &mB, v: &vB, lr: 2e-4, beta1: 0.5, beta2: 0.999,
                                  eps: 1e-8, step: step)
      }
      assertClose(pA, pB, tolerance: 1e-6, "adam params n=\(n)")
      assertClose(mA, mB, tolerance: 1e-6, "adam m n=\(n)")
      assertClose(vA, vB, tolerance: 1e-6, "adam v n=\(n)")
    }
  }

  func testPixelConversionsMatchReference() {
    var rng = TestRandom(seed: 35)
    for n in [0, 1, 15, 16, 17, 4099] {
      let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      var a = [Float](repeating: 0, count: n), b = a
      PixelConvert.toFloat(count: n, src: bytes, dst: &a)
      ElementwiseReference.toFloat(count: n, src: bytes, dst: &b)
      assertIdentical(a, b, "u8 -> f32 n=\(n)")
      let f = rng.array(n, scale: 1.2)
      var ua = [UInt8](repeating: 0, count: n), ub = ua
      PixelConvert.toUInt8(count: n, src: f, dst: &ua)
      ElementwiseReference.toUInt8(count: n, src: f, dst: &ub)
      assertIdentical(ua, ub, "f32 -> u8 n=\(n)")
      // Round trip is exact for every byte value.
      var back = [UInt8](repeating: 0, count: n)
      PixelConvert.toUInt8(count: n, src: a, dst: &back)
      assertIdentical(back, bytes, "u8 -> f32 -> u8 round trip n=\(n)")
    }
  }
}
