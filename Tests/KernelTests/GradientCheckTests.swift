import XCTest
import GanKernels

/// Finite-difference checks of every backward kernel: for L(x) = sum(R * f(x)) with a fixed random
/// R, the analytic gradient (the backward kernel fed dy = R) must match central differences
/// (L(x + h e_i) - L(x - h e_i)) / 2h at sampled coordinates. L is accumulated in Double.
final class GradientCheckTests: XCTestCase {
  /// Compares analytic[i] with the central difference of `loss` at `samples` coordinates of `x`.
  func check(_ what: String, x: inout [Float], analytic: [Float], h: Float, tolerance: Double,
             samples: Int = 24, seed: UInt64 = 9, loss: ([Float]) -> Double,
             file: StaticString = #filePath, line: UInt = #line) {
    var rng = TestRandom(seed: seed)
    let scale = analytic.map { abs(Double($0)) }.max() ?? 1
    var worst = 0.0
    for s in 0..<samples {
      let i = s == 0 ? 0 : Int(rng.next() % UInt64(x.count))
      let old = x[i]
      x[i] = old + h
      let lp = loss(x)
      x[i] = old - h
      let lm = loss(x)
      x[i] = old
      let numeric = (lp - lm) / (2 * Double(h))
      worst = max(worst, abs(numeric - Double(analytic[i])) / max(scale, 1e-12))
    }
    XCTAssert(worst <= tolerance, "\(what): finite-difference error \(worst) (relative to max |grad|) > \(tolerance)",
              file: file, line: line)
  }

  func dot(_ r: [Float], _ y: [Float]) -> Double {
    var s = 0.0
    for i in 0..<r.count { s += Double(r[i]) * Double(y[i]) }
    return s
  }

  func testDeconvGradients() {
    var rng = TestRandom(seed: 21)
    let s = ConvShape(batch: 2, height: 3, width: 4, inChannels: 5, outChannels: 6)
    var x = rng.array(2 * 3 * 4 * 5), w = rng.array(16 * 5 * 6)
    let r = rng.array(2 * 6 * 8 * 6)
    let ws = Workspace(bytes: Deconv4s2.workspaceBytes(s, threads: 2))
    func f(_ x: [Float], _ w: [Float]) -> Double {
      var y = [Float](repeating: 0, count: r.count)
      Deconv4s2.forward(s, x: x, weights: w, y: &y, workspace: ws.pointer, threads: 2)
      return dot(r, y)
    }
    var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
    Deconv4s2.backwardData(s, dy: r, weights: w, dx: &dx, workspace: ws.pointer, threads: 2)
    Deconv4s2.backwardWeights(s, x: x, dy: r, dw: &dw, accumulate: false, workspace: ws.pointer, threads: 2)
    let wc = w, xc = x
    check("deconv dx", x: &x, analytic: dx, h: 1e-2, tolerance: 1e-3) { f($0, wc) }
    check("deconv dw", x: &w, analytic: dw, h: 1e-2, tolerance: 1e-3) { f(xc, $0) }
  }

  func testConvGradients() {
    var rng = TestRandom(seed: 22)
    let s = ConvShape(batch: 2, height: 6, width: 4, inChannels: 3, outChannels: 7)
    var x = rng.array(2 * 6 * 4 * 3), w = rng.array(16 * 3 * 7)
    let r = rng.array(2 * 3 * 2 * 7)
    let ws = Workspace(bytes: Conv4s2.workspaceBytes(s, threads: 2))
    func f(_ x: [Float], _ w: [Float]) -> Double {
      var y = [Float](repeating: 0, count: r.count)
      Conv4s2.forward(s, x: x, weights: w, y: &y, workspace: ws.pointer, threads: 2)
      return dot(r, y)
    }
    var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
    Conv4s2.backwardData(s, dy: r, weights: w, dx: &dx, workspace: ws.pointer, threads: 2)
    Conv4s2.backwardWeights(s, x: x, dy: r, dw: &dw, accumulate: false, workspace: ws.pointer, threads: 2)
    let wc = w, xc = x
    check("conv dx", x: &x, analytic: dx, h: 1e-2, tolerance: 1e-3) { f($0, wc) }
    check("conv dw", x: &w, analytic: dw, h: 1e-2, tolerance: 1e-3) { f(xc, $0) }
  }

  func testDenseGradients() {
    var rng = TestRandom(seed: 23)
    let n = 3, kin = 10, kout = 16 * 5
    var x = rng.array(n * kin), w = rng.array(kin * kout)
    let r = rng.array(n * kout)
    let ws = Workspace(bytes: Dense.workspaceBytes(batch: n, inFeatures: kin, outFeatures: kout, threads: 2))
    func f(_ x: [Float], _ w: [Float]) -> Double {
      var y = [Float](repeating: 0, count: r.count)
      Dense.forward(batch: n, inFeatures: kin, outFeatures: kout, x: x, weights: w, y: &y, workspace: ws.pointer,
                    threads: 2)
      return dot(r, y)
    }
    var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
    Dense.backwardData(batch: n, inFeatures: kin, outFeatures: kout, dy: r, weights: w, dx: &dx, workspace: ws.pointer,
                       threads: 2)
    Dense.backwardWeights(batch: n, inFeatures: kin, outFeatures: kout, x: x, dy: r, dw: &dw, accumulate: false,
                          workspace: ws.pointer, threads: 2)
    let wc = w, xc = x
    check("dense dx", x: &x, analytic: dx, h: 1e-2, tolerance: 1e-3) { f($0, wc) }
    check("dense dw", x: &w, analytic: dw, h: 1e-2, tolerance: 1e-3) { f(xc, $0) }
  }

  /// BatchNorm with batch statistics, fused with each activation: dx, dgamma, dbeta.
  func testBatchNormGradients() {
    for act in [Activation.none, .relu, .leakyRelu(0.2)] {
      for c in [5, 32] {
        var rng = TestRandom(seed: 24 + UInt64(c))
        let rows = 18
        var x = rng.array(rows * c, scale: 2), gamma = rng.array(c).map { $0 + 1.5 }, beta = rng.array(c, scale: 0.3)
        let r = rng.array(rows * c)
        func forward(_ x: [Float], _ gamma: [Float], _ beta: [Float]) -> (y: [Float], mean: [Float], rstd: [Float]) {
          var sum = [Double](repeating: 0, count: c), sq = sum
          for i in 0..<rows { for j in 0..<c { let v = Double(x[i * c + j]); sum[j] += v; sq[j] += v * v } }
          var mean = [Float](repeating: 0, count: c), rstd = mean, scale = mean, shift = mean
          BatchNorm.statistics(rows: rows, channels: c, sum: sum, sumOfSquares: sq, eps: 1e-5, momentum: 0.1,
                               mean: &mean, rstd: &rstd, runningMean: nil, runningVar: nil)
          BatchNorm.foldScaleShift(channels: c, gamma: gamma, beta: beta, mean: mean, rstd: rstd, scale: &scale,
                                   shift: &shift)
          var y = [Float](repeating: 0, count: x.count)
          BatchNorm.apply(rows: rows, channels: c, x: x, scale: scale, shift: shift, activation: act, y: &y)
          return (y, mean, rstd)
        }
        let (y, mean, rstd) = forward(x, gamma, beta)
        var dx = [Float](repeating: 0, count: x.count), dg = [Float](repeating: 0, count: c), db = dg
        var scratch = [Double](repeating: 0, count: 2 * c)
        BatchNorm.backward(rows: rows, channels: c, x: x, y: y, dy: r, mean: mean, rstd: rstd, gamma: gamma,
                           activation: act, dx: &dx, dgamma: &dg, dbeta: &db, accumulate: false, scratch: &scratch)
        let gc = gamma, bc = beta, xc = x
        // Nonlinear (and kinked for ReLU): smaller step, looser bound.
        check("BN \(act) c=\(c) dx", x: &x, analytic: dx, h: 1e-3, tolerance: 2e-2) { self.dot(r, forward($0, gc,
            bc).y) }
        check("BN \(act) c=\(c) dgamma", x: &gamma, analytic: dg, h: 1e-3, tolerance: 2e-2) { self.dot(r, forward(xc,
            $0, bc).y) }
        check("BN \(act) c=\(c) dbeta", x: &beta, analytic: db, h: 1e-3, tolerance: 2e-2) { self.dot(r, forward(xc, gc,
            $0).y) }
      }
    }
  }

  func testActivationAndLossGradients() {
    var rng = TestRandom(seed: 25)
    var x = rng.array(100, scale: 2)
    let r = rng.array(100)
    // tanh: backward from the forward's output.
    let y = x.map { Float(Foundation.tanh(Double($0))) }
    var dx = [Float](repeating: 0, count: 100)
    ActivationGrad.tanh(count: 100, y: y, dy: r, dx: &dx)
    check("tanh", x: &x, analytic: dx, h: 1e-3, tolerance: 1e-2) { xs in
      self.dot(r, xs.map { Float(Foundation.tanh(Double($0))) })
    }
    // LeakyReLU: keep samples away from the kink.
    var xl = x.map { abs($0) < 0.05 ? $0 + 0.1 : $0 }
    let yl = xl.map { $0 > 0 ? $0 : 0.2 * $0 }
    ActivationGrad.leakyRelu(count: 100, y: yl, dy: r, slope: 0.2, dx: &dx)
    check("leaky relu", x: &xl, analytic: dx, h: 1e-3, tolerance: 1e-2) { xs in self.dot(r,
        xs.map { $0 > 0 ? $0 : 0.2 * $0 }) }
    // BCE-with-logits against 1 and 0.
    for target: Float in [1, 0] {
      var logits = rng.array(9, scale: 3)
      var g = [Float](repeating: 0, count: 9)
      _ = BCEWithLogits.loss(logits, count: 9, target: target, gradient: &g)
      check("bce target \(target)", x: &logits, analytic: g, h: 1e-2, tolerance: 1e-3, samples: 9) { ls in
        BCEWithLogits.loss(ls, count: 9, target: target, gradient: nil)
      }
    }
  }
}
